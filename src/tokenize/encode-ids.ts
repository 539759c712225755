// Model input for classification, training and serving alike: unpadded token ids per text, cut to the model's
// longest input, with a flag for each text that was cut.
import type { TextTokenizer } from './tokenizer.ts';

/**
 * Token ids per text, special tokens included, cut to `maxLength`; `truncated` marks the cut ones. Only texts
 * that are too long are encoded a second time, with the tokenizer's truncation (which keeps the closing special
 * token whatever the template).
 */
export async function encodeIds(tokenizer: TextTokenizer, texts: readonly string[], maxLength: number): Promise<{ ids: Int32Array[]; truncated: boolean[] }> {
  if (texts.length === 0) return { ids: [], truncated: [] };
  const full = await tokenizer.encodeBatch(texts, { maxLength: 1 << 20, padding: 'longest', truncation: true });
  const long = texts.flatMap((_, b) => ((full.lengths[b] as number) > maxLength ? [b] : []));
  const cut = long.length > 0 ? await tokenizer.encodeBatch(long.map((b) => texts[b] as string), { maxLength, padding: 'longest', truncation: true }) : null;
  const cutRow = new Map(long.map((b, row) => [b, row]));
  const ids = texts.map((_, b) => {
    const cutAt = cutRow.get(b);
    const [encoded, row] = cut && cutAt !== undefined ? [cut, cutAt] : [full, b];
    const offset = row * encoded.seq;
    return Int32Array.from(encoded.inputIds.subarray(offset, offset + (encoded.lengths[row] as number)), Number);
  });
  return { ids, truncated: texts.map((_, b) => cutRow.has(b)) };
}

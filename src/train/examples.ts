// Tokenizes a dataset once; batches are then cut from the stored ids and padded per batch.
import type { TextTokenizer } from '../tokenize/index.ts';

export interface EncodedExamples {
  /** Token ids per example, special tokens included, truncated to the maximum length. */
  readonly ids: readonly Int32Array[];
  readonly maxLength: number;
  /** Examples whose text was cut to fit. */
  readonly truncated: number;
}

const CHUNK = 512;

/** Any rows with text: a dataset's examples, or those and a teacher's rows together. */
export async function encodeExamples(tokenizer: TextTokenizer, dataset: { readonly examples: readonly { readonly text: string }[] }, maxLength: number): Promise<EncodedExamples> {
  const ids: Int32Array[] = [];
  let truncated = 0;
  for (let start = 0; start < dataset.examples.length; start += CHUNK) {
    const chunk = await encodeTexts(tokenizer, dataset.examples.slice(start, start + CHUNK).map((e) => e.text), maxLength);
    ids.push(...chunk.ids);
    truncated += chunk.truncated.filter(Boolean).length;
  }
  return { ids, maxLength, truncated };
}

/**
 * Token ids per text, special tokens included, cut to `maxLength`; `truncated` marks the cut ones. Only texts
 * that are too long are encoded a second time, with the tokenizer's truncation (which keeps the closing special
 * token whatever the template).
 */
export async function encodeTexts(tokenizer: TextTokenizer, texts: readonly string[], maxLength: number): Promise<{ ids: Int32Array[]; truncated: boolean[] }> {
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

// Tokenizes a dataset once; batches are then cut from the stored ids and padded per batch.
import type { Dataset } from '../data/index.ts';
import type { TextTokenizer } from '../tokenize/index.ts';

export interface EncodedExamples {
  /** Token ids per example, special tokens included, truncated to the maximum length. */
  readonly ids: readonly Int32Array[];
  readonly maxLength: number;
  /** Examples whose text was cut to fit. */
  readonly truncated: number;
}

const CHUNK = 512;

export async function encodeExamples(tokenizer: TextTokenizer, dataset: Dataset, maxLength: number): Promise<EncodedExamples> {
  const ids: Int32Array[] = [];
  let truncated = 0;
  for (let start = 0; start < dataset.examples.length; start += CHUNK) {
    const texts = dataset.examples.slice(start, start + CHUNK).map((e) => e.text);
    const full = await tokenizer.encodeBatch(texts, { maxLength: 1 << 20, padding: 'longest', truncation: true });
    // Only texts that are too long are encoded again, with the tokenizer's truncation (which keeps the closing
    // special token whatever the template).
    const long = texts.flatMap((_, b) => ((full.lengths[b] as number) > maxLength ? [b] : []));
    const cut = long.length > 0 ? await tokenizer.encodeBatch(long.map((b) => texts[b] as string), { maxLength, padding: 'longest', truncation: true }) : null;
    const cutRow = new Map(long.map((b, row) => [b, row]));
    truncated += long.length;
    for (let b = 0; b < full.batch; b++) {
      const cutAt = cutRow.get(b);
      const [encoded, row] = cut && cutAt !== undefined ? [cut, cutAt] : [full, b];
      const offset = row * encoded.seq;
      ids.push(Int32Array.from(encoded.inputIds.subarray(offset, offset + (encoded.lengths[row] as number)), Number));
    }
  }
  return { ids, maxLength, truncated };
}

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
    const cut = await tokenizer.encodeBatch(texts, { maxLength, padding: 'longest', truncation: true });
    for (let b = 0; b < cut.batch; b++) {
      const length = cut.lengths[b] as number;
      if ((full.lengths[b] as number) > length) truncated++;
      ids.push(Int32Array.from(cut.inputIds.subarray(b * cut.seq, b * cut.seq + length), Number));
    }
  }
  return { ids, maxLength, truncated };
}

// Tokenizes a dataset once; batches are then cut from the stored ids and padded per batch.
import { encodeIds, type TextTokenizer } from '../tokenize/index.ts';

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
    const chunk = await encodeIds(tokenizer, dataset.examples.slice(start, start + CHUNK).map((e) => e.text), maxLength);
    ids.push(...chunk.ids);
    truncated += chunk.truncated.filter(Boolean).length;
  }
  return { ids, maxLength, truncated };
}

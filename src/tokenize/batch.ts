// Packs encoded rows into the flat, right-padded typed arrays an encoder graph takes as inputs.
import { preview, TokenizerError } from './errors.ts';

/** 'longest': to the longest row of the batch; 'max_length': to `maxLength`; 'none': rows must already match. */
export type Padding = 'longest' | 'max_length' | 'none';

export interface EncodeOptions {
  /** The model's limit (e.g. 512 for BERT and XLM-R), special tokens included. */
  readonly maxLength: number;
  /** Default 'longest'. */
  readonly padding?: Padding;
  /** Default true: cut each text to `maxLength`, keeping the closing [SEP] / </s>. With false a longer text is an error. */
  readonly truncation?: boolean;
}

/** Row-major [batch, seq] tensors; `lengths[i]` counts the real tokens of row i (special tokens included). */
export interface EncodedBatch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: Float32Array;
  readonly tokenTypeIds: BigInt64Array;
  readonly lengths: Int32Array;
}

export interface EncodedRow {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
}

/** `padId` is only read when some row is shorter than `seq`. */
export function packRows(rows: readonly EncodedRow[], seq: number, padId: number): EncodedBatch {
  const batch = rows.length;
  const inputIds = new BigInt64Array(batch * seq).fill(BigInt(padId));
  const attentionMask = new Float32Array(batch * seq);
  const tokenTypeIds = new BigInt64Array(batch * seq); // pad_type_id is 0 in every HF tokenizer
  const lengths = new Int32Array(batch);
  rows.forEach((row, b) => {
    if (row.ids.length > seq) {
      throw new TokenizerError({ code: 'BAD_ARGUMENT', message: `row ${b} is longer than the batch`, where: { api: 'packRows' }, expected: `at most ${seq} tokens`, received: `${row.ids.length}` });
    }
    lengths[b] = row.ids.length;
    row.ids.forEach((id, t) => {
      inputIds[b * seq + t] = BigInt(id);
      attentionMask[b * seq + t] = 1;
      tokenTypeIds[b * seq + t] = BigInt(row.typeIds[t] ?? 0);
    });
  });
  return { batch, seq, inputIds, attentionMask, tokenTypeIds, lengths };
}

/** The padded length for a batch, or an error when 'none' meets rows of different lengths. */
export function paddedLength(rows: readonly EncodedRow[], padding: Padding, maxLength: number): number {
  const lengths = rows.map((r) => r.ids.length);
  const longest = Math.max(0, ...lengths);
  if (padding === 'max_length') return maxLength;
  if (padding === 'longest') return longest;
  const differs = lengths.findIndex((n) => n !== lengths[0]);
  if (differs >= 0) {
    throw new TokenizerError({
      code: 'BAD_ARGUMENT',
      message: `padding 'none' needs texts of equal token length`,
      where: { api: 'encodeBatch' },
      expected: `${lengths[0]} tokens, as text 0`,
      received: `${lengths[differs]} tokens in text ${differs}`,
      hint: "use padding 'longest' or 'max_length'",
    });
  }
  return longest;
}

export function checkEncodeOptions(options: EncodeOptions, specialCount: number): Required<EncodeOptions> {
  const { maxLength, padding = 'longest', truncation = true } = options;
  if (!Number.isInteger(maxLength) || maxLength <= 0) {
    throw new TokenizerError({ code: 'BAD_ARGUMENT', message: 'maxLength is not a positive integer', where: { api: 'encodeBatch', field: 'maxLength' }, received: preview(maxLength) });
  }
  if (!['longest', 'max_length', 'none'].includes(padding)) {
    throw new TokenizerError({ code: 'BAD_ARGUMENT', message: 'unknown padding', where: { api: 'encodeBatch', field: 'padding' }, expected: "'longest', 'max_length' or 'none'", received: preview(padding) });
  }
  if (truncation && maxLength <= specialCount) {
    throw new TokenizerError({
      code: 'BAD_ARGUMENT',
      message: `maxLength leaves no room for text: the post-processor adds ${specialCount} special tokens per text`,
      where: { api: 'encodeBatch', field: 'maxLength' },
      expected: `more than ${specialCount}`,
      received: String(maxLength),
    });
  }
  return { maxLength, padding, truncation };
}

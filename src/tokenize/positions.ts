// Position ids for the two conventions of BERT-family encoders, computed from a padded batch.
//
// Why two: BERT (and mBERT, MiniLM, DistilBERT) numbers positions 0..seq-1 in every row, padding included;
// its padded positions get ordinary embeddings that the attention mask hides. RoBERTa and XLM-R inherit
// fairseq's learned positions, which reserve rows 0..padding_idx of the position table: a padding token gets
// position padding_idx (an embedding row that is zero and never trained), and real tokens count up from
// padding_idx + 1. That is why XLM-R's max_position_embeddings is 514 = 512 + padding_idx (1) + 1, and why
// HF computes them as padding_idx + cumsum(input_ids != padding_idx) on non-pad tokens. With
// right padding the real tokens of a row get padding_idx+1, padding_idx+2, …; with left padding they still
// start at padding_idx+1 where BERT's would not start at 0.
import type { EncodedBatch } from './batch.ts';
import { TokenizerError } from './errors.ts';

export type PositionConvention =
  | { readonly convention: 'bert' }
  /** `paddingIdx` is the model's pad_token_id (1 for XLM-R and RoBERTa): HF uses it both to find pads and as their position. */
  | { readonly convention: 'roberta'; readonly paddingIdx: number };

/** The position convention of a Hugging Face encoder config (RoBERTa and XLM-R count from pad_token_id + 1). */
export function positionsOf(config: { readonly positions: 'bert' | 'roberta'; readonly padTokenId: number }): PositionConvention {
  return config.positions === 'roberta' ? { convention: 'roberta', paddingIdx: config.padTokenId } : { convention: 'bert' };
}

/** [batch, seq] int64 position ids for `encoded`, in the layout of its inputIds. */
export function positionIds(encoded: Pick<EncodedBatch, 'batch' | 'seq' | 'inputIds'>, options: PositionConvention): BigInt64Array {
  if (options.convention === 'bert') return bertPositionIds(encoded.batch, encoded.seq);
  return robertaPositionIds(encoded.inputIds, encoded.seq, options.paddingIdx);
}

/** 0..seq-1 in every row. */
export function bertPositionIds(batch: number, seq: number): BigInt64Array {
  const out = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) out[b * seq + t] = BigInt(t);
  return out;
}

/** padding_idx + (count of non-pad tokens up to and including t) for non-pad tokens; padding_idx for pads. */
export function robertaPositionIds(inputIds: BigInt64Array, seq: number, paddingIdx: number): BigInt64Array {
  if (seq <= 0 ? inputIds.length !== 0 : inputIds.length % seq !== 0) {
    throw new TokenizerError({
      code: 'BAD_ARGUMENT',
      message: 'the input ids do not split into rows',
      where: { api: 'robertaPositionIds' },
      expected: `a multiple of seq ${seq}`,
      received: `${inputIds.length} ids`,
    });
  }
  const pad = BigInt(paddingIdx);
  const out = new BigInt64Array(inputIds.length);
  for (let row = 0; row < inputIds.length; row += seq) {
    let position = pad;
    for (let t = row; t < row + seq; t++) {
      if (inputIds[t] === pad) out[t] = pad;
      else out[t] = ++position;
    }
  }
  return out;
}

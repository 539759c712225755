// Texts → the feeds of one masked-LM training step: encoder inputs plus mlm_positions / mlm_labels.
import { MLM_LABELS, MLM_POSITIONS } from '../models/mlm.ts';
import type { Feeds } from '../runtime/session.ts';
import { positionIds, type PositionConvention, type TextTokenizer } from '../tokenize/index.ts';
import { PretrainError } from './errors.ts';
import { maskingVocab, maskTokens, type MaskingDraw, type MaskingOptions } from './masking.ts';

export interface MlmBatchOptions extends MaskingDraw {
  /** The model's longest sequence, special tokens included; longer texts are cut (their closing [SEP] / </s> kept). */
  readonly maxLength: number;
  /** How the model counts positions; `positionsOf(config)` for a Hugging Face config. */
  readonly positions: PositionConvention;
  readonly masking?: MaskingOptions;
}

export interface MlmBatch {
  /** input_ids (masked), position_ids, token_type_ids, attention_mask: [sequences, seq]; mlm_positions, mlm_labels: [masked]. */
  readonly feeds: Feeds;
  readonly sequences: number;
  /** The padded length: the longest text of the batch. */
  readonly seq: number;
  /** Real tokens, special tokens included, padding not: the count for tokens/s. */
  readonly tokens: number;
  /** Tokens to predict. */
  readonly masked: number;
}


/** Tokenizes `texts` (padded to the longest), masks them as `maskTokens` does and packs the step's feeds. */
export async function mlmBatch(tokenizer: TextTokenizer, texts: readonly string[], options: MlmBatchOptions): Promise<MlmBatch> {
  if (texts.length === 0) {
    throw new PretrainError({ code: 'BAD_ARGUMENT', where: { api: 'mlmBatch' }, message: 'no texts to make a batch of', expected: 'at least one text' });
  }
  checkPadding(tokenizer, options.positions);
  const encoded = await tokenizer.encodeBatch(texts, { maxLength: options.maxLength, padding: 'longest', truncation: true });
  const masked = maskTokens(encoded, maskingVocab(tokenizer), options, options.masking);
  const { batch, seq } = encoded;
  const shape = [batch, seq];
  let tokens = 0;
  for (const length of encoded.lengths) tokens += length;
  return {
    feeds: {
      input_ids: { dtype: 'int64', shape, data: masked.inputIds },
      // From the unmasked ids: RoBERTa positions find padding by its id, and masking never writes that id anyway.
      position_ids: { dtype: 'int64', shape, data: positionIds(encoded, options.positions) },
      // One segment: pretraining on single texts (no next-sentence pairs).
      token_type_ids: { dtype: 'int64', shape, data: new BigInt64Array(batch * seq) },
      attention_mask: { dtype: 'float32', shape, data: encoded.attentionMask },
      [MLM_POSITIONS]: { dtype: 'int64', shape: [masked.positions.length], data: masked.positions },
      [MLM_LABELS]: { dtype: 'int64', shape: [masked.labels.length], data: masked.labels },
    },
    sequences: batch,
    seq,
    tokens,
    masked: masked.positions.length,
  };
}

/** RoBERTa position ids treat the model's padding index as the pad token: the tokenizer must pad with that id. */
function checkPadding(tokenizer: TextTokenizer, positions: PositionConvention): void {
  if (positions.convention !== 'roberta') return;
  const pad = tokenizer.special('pad', 'padding masked-LM batches').id;
  if (pad !== positions.paddingIdx) {
    throw new PretrainError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: tokenizer.source },
      message: "pads with an id other than the model's padding index, so RoBERTa-style position ids would count padding as tokens",
      expected: `pad id ${positions.paddingIdx} (the model's pad_token_id)`,
      received: String(pad),
      hint: "use the model's own tokenizer, or set pad_token_id to the tokenizer's pad id",
    });
  }
}

// Public API of the masked-LM data pipeline: corpus, epoch order, masking and the feeds of a pretraining step.
export {
  batchesPerEpoch,
  corpusBatches,
  cursorAt,
  epochOrder,
  groupedEpochOrder,
  readUnlabeledCorpus,
  type BatchCursor,
  type BatchingOptions,
  type CorpusBatch,
  type CorpusReadOptions,
  type UnlabeledCorpus,
} from './corpus.ts';
export { maskingVocab, maskTokens, type MaskedTokens, type MaskingDraw, type MaskingOptions, type MaskingVocab } from './masking.ts';
export { mlmBatch, type MlmBatch, type MlmBatchOptions } from './batches.ts';
export { PretrainError } from './errors.ts';

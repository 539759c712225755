// Encoder configuration: the fields of a Hugging Face BERT/XLM-R config.json that shape the graph.
import { XlmtError } from '../errors/index.ts';

export interface EncoderConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly intermediateSize: number;
  readonly maxPositionEmbeddings: number;
  /** 2 for BERT; XLM-R checkpoints use 1 (one segment). */
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly hiddenDropoutProb: number;
  readonly attentionProbsDropoutProb: number;
}

/** BERT-base's defaults, scaled by the caller. Dropout 0.1 as in the original BERT recipe. */
export function encoderConfig(overrides: Partial<EncoderConfig> = {}): EncoderConfig {
  const config: EncoderConfig = {
    vocabSize: 30522,
    hiddenSize: 768,
    numHiddenLayers: 12,
    numAttentionHeads: 12,
    intermediateSize: 3072,
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
    ...overrides,
  };
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    throw new XlmtError({
      code: 'BAD_ARGUMENT',
      message: 'the hidden size does not split evenly into the attention heads',
      where: { api: 'encoderConfig', field: 'hiddenSize' },
      expected: `a multiple of numAttentionHeads ${config.numAttentionHeads}`,
      received: String(config.hiddenSize),
      hint: 'from the command line, choose --hidden and --heads so that the heads divide the hidden size',
    });
  }
  return config;
}

/** Matmul FLOPs of one forward pass over `batch` sequences of `seq` tokens (2 FLOPs per multiply-add). */
export function forwardMatmulFlops(c: EncoderConfig, batch: number, seq: number, numLabels: number): number {
  const tokens = batch * seq;
  const h = c.hiddenSize;
  const perLayer = tokens * (2 * 4 * h * h + 2 * 2 * h * c.intermediateSize + 2 * 2 * seq * h);
  return c.numHiddenLayers * perLayer + 2 * batch * h * numLabels;
}

// Encoder configuration: the fields of a Hugging Face BERT/XLM-R config.json that shape the graph, and the shape
// of each layer once heads or FFN neurons have been pruned away (layerShape).
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
  /**
   * Attention heads removed from each layer, by their index before pruning (transformers' `pruned_heads`); a
   * layer absent here keeps all numAttentionHeads. Head size stays hiddenSize / numAttentionHeads.
   */
  readonly prunedHeads?: Readonly<Record<number, readonly number[]>>;
  /** FFN size of each layer, when the layers differ (config.json's `xlmt_intermediate_sizes`); else intermediateSize. */
  readonly intermediateSizes?: readonly number[];
}

/** What one layer computes with: the heads it keeps and its FFN width. */
export interface LayerShape {
  /** Indices (before pruning, ascending) of the attention heads the layer keeps. */
  readonly heads: readonly number[];
  readonly headSize: number;
  /** heads × headSize: the width of the query, key, value and context vectors. */
  readonly attentionSize: number;
  readonly intermediateSize: number;
}

export function layerShape(c: EncoderConfig, layer: number): LayerShape {
  const headSize = c.hiddenSize / c.numAttentionHeads;
  const removed = new Set(c.prunedHeads?.[layer] ?? []);
  const heads = Array.from({ length: c.numAttentionHeads }, (_, h) => h).filter((h) => !removed.has(h));
  return { heads, headSize, attentionSize: heads.length * headSize, intermediateSize: c.intermediateSizes?.[layer] ?? c.intermediateSize };
}

export function layerShapes(c: EncoderConfig): LayerShape[] {
  return Array.from({ length: c.numHiddenLayers }, (_, i) => layerShape(c, i));
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
  return normalizeLayers(config);
}

function badLayers(field: string, message: string, expected: string, received: string): XlmtError {
  return new XlmtError({ code: 'BAD_ARGUMENT', message, where: { api: 'encoderConfig', field }, expected, received });
}

/**
 * Checks the per-layer fields and writes them one way only: no empty head lists, layer keys in order, head lists
 * sorted, and per-layer FFN sizes dropped when every layer has the same one (which becomes intermediateSize).
 */
function normalizeLayers(config: EncoderConfig): EncoderConfig {
  const { prunedHeads, intermediateSizes, ...rest } = config;
  const layers = config.numHiddenLayers;
  const heads: Record<number, readonly number[]> = {};
  for (const [key, list] of Object.entries(prunedHeads ?? {})) {
    const layer = Number(key);
    if (!Number.isInteger(layer) || layer < 0 || layer >= layers) {
      throw badLayers(`prunedHeads.${key}`, 'pruned heads name a layer the encoder does not have', `a layer index in 0…${layers - 1}`, key);
    }
    const unique = [...new Set(list)].sort((a, b) => a - b);
    const outside = unique.find((h) => !Number.isInteger(h) || h < 0 || h >= config.numAttentionHeads);
    if (outside !== undefined) {
      throw badLayers(`prunedHeads.${key}`, `layer ${layer} removes a head it does not have`, `head indices in 0…${config.numAttentionHeads - 1}`, String(outside));
    }
    if (unique.length === config.numAttentionHeads) {
      throw badLayers(`prunedHeads.${key}`, `layer ${layer} would keep no attention head`, `at most ${config.numAttentionHeads - 1} heads removed`, `all ${unique.length}`);
    }
    if (unique.length > 0) heads[layer] = unique;
  }
  let intermediate = config.intermediateSize;
  let perLayer: readonly number[] | undefined;
  if (intermediateSizes) {
    if (intermediateSizes.length !== layers) {
      throw badLayers('intermediateSizes', 'per-layer FFN sizes do not match the number of layers', `${layers} sizes`, `${intermediateSizes.length}`);
    }
    const bad = intermediateSizes.findIndex((n) => !Number.isInteger(n) || n < 1);
    if (bad >= 0) throw badLayers(`intermediateSizes.${bad}`, `layer ${bad} has no FFN neuron left`, 'a positive integer', String(intermediateSizes[bad]));
    if (intermediateSizes.every((n) => n === intermediateSizes[0])) intermediate = intermediateSizes[0] as number;
    else perLayer = [...intermediateSizes];
  }
  return {
    ...rest,
    intermediateSize: intermediate,
    ...(Object.keys(heads).length > 0 ? { prunedHeads: heads } : {}),
    ...(perLayer ? { intermediateSizes: perLayer } : {}),
  };
}

/** Matmul FLOPs of one forward pass over `batch` sequences of `seq` tokens (2 FLOPs per multiply-add). */
export function forwardMatmulFlops(c: EncoderConfig, batch: number, seq: number, numLabels: number): number {
  const tokens = batch * seq;
  const h = c.hiddenSize;
  const layers = layerShapes(c).reduce((sum, { attentionSize: a, intermediateSize: f }) =>
    sum + tokens * (2 * 3 * h * a + 2 * a * h + 2 * 2 * h * f + 2 * 2 * seq * a), 0);
  return layers + 2 * batch * h * numLabels;
}

// Tiny random classifiers and padded batches for the inference-graph tests.
import type { Graph } from '../../src/ir/graph.ts';
import type { TensorData } from '../../src/ir/tensor.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { encoderConfig, type EncoderConfig } from '../../src/models/config.ts';
import type { TaskHead } from '../../src/models/heads.ts';
import { type InferenceGraphOptions, referenceInferenceGraph } from '../../src/export/graph.ts';
import type { Feeds } from '../../src/runtime/session.ts';
import { Random } from '../../src/util/random.ts';

export const TASKS: readonly TaskHead[] = [
  { name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] },
  { name: 'topics', type: 'multilabel', labels: ['price', 'staff', 'speed', 'food'] },
];

/** Two layers, four heads of width 6: small, but every axis differs so a transposed or mis-packed weight shows. */
export function tinyConfig(overrides: Partial<EncoderConfig> = {}): EncoderConfig {
  return encoderConfig({
    vocabSize: 53, hiddenSize: 24, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 40,
    maxPositionEmbeddings: 20, typeVocabSize: 2, layerNormEps: 1e-5, ...overrides,
  });
}

/**
 * Every parameter random, biases and LayerNorm shifts included (zeros would hide a bias in the wrong place),
 * LayerNorm scales around 1; `std` sets how far from uniform the probabilities get.
 */
export function randomParams(config: EncoderConfig, tasks: readonly TaskHead[], options: InferenceGraphOptions, seed: number, std = 0.3): Map<string, Parameter> {
  const random = new Random(seed);
  const store = new Map<string, Parameter>();
  for (const p of referenceInferenceGraph(config, tasks, options).params) {
    const shape = p.shape as number[];
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isScale = /LayerNorm\.weight$/.test(p.name);
    for (let i = 0; i < data.length; i++) data[i] = (isScale ? 1 : 0) + random.normal() * (isScale ? 0.1 : std);
    store.set(p.name, { name: p.name, shape, data });
  }
  return store;
}

/** Right-padded rows of the given lengths: token 0 a CLS-like id, the rest random non-pad ids. */
export function paddedBatch(config: EncoderConfig, lengths: readonly number[], padId: number, seed: number): Feeds {
  const random = new Random(seed);
  const seq = Math.max(...lengths);
  const ids = new BigInt64Array(lengths.length * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(lengths.length * seq);
  lengths.forEach((length, b) => {
    for (let s = 0; s < length; s++) {
      let id = s === 0 ? 2 : random.int(config.vocabSize);
      if (id === padId) id = 3;
      ids[b * seq + s] = BigInt(id);
      mask[b * seq + s] = 1n;
    }
  });
  const shape = [lengths.length, seq];
  const feeds: Record<string, TensorData> = {
    input_ids: { dtype: 'int64', shape, data: ids },
    attention_mask: { dtype: 'int64', shape, data: mask },
  };
  return feeds;
}

export function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

/** Largest absolute difference between two equally long float arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

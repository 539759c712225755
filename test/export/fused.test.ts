// The fused inference graph computes what the reference graph computes, through ONNX Runtime's contrib kernels.
import { afterAll, describe, expect, it } from 'vitest';
import { type EpilogueKind, fusedInferenceGraph } from '../../src/export/fused.ts';
import { type InferenceGraphOptions, referenceInferenceGraph } from '../../src/export/graph.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { ParamStore } from '../../src/ir/params.ts';
import type { EncoderConfig } from '../../src/models/config.ts';
import type { TaskHead } from '../../src/models/heads.ts';
import { type Feeds, type Results, Session } from '../../src/runtime/session.ts';
import { maxAbsDiff, opCounts, paddedBatch, randomParams, TASKS, tinyConfig } from './fixtures.ts';

// Both graphs run in float32 with the same weights; they differ only in summation order (fused kernels, folded
// token-type row, packed QKV), i.e. a few ulps per op. Through two layers that stays below 1e-6 on
// probabilities; 1e-4 leaves room for other CPUs' kernels while still catching any real mistake (a wrong
// position, mask or bias moves probabilities by 1e-2 or more with these weights).
const PROBS_TOLERANCE = 1e-4;

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function run(graph: Graph, params: ParamStore, feeds: Feeds): Promise<Results> {
  const session = await Session.create(graph, { params, threads: 1 });
  sessions.push(session);
  return session.run(feeds);
}

async function compare(config: EncoderConfig, tasks: readonly TaskHead[], options: InferenceGraphOptions, lengths: readonly number[], padId: number,
  epilogues: EpilogueKind = 'standard'): Promise<Results> {
  const params = randomParams(config, tasks, options, 7);
  const feeds = paddedBatch(config, lengths, padId, 3);
  const reference = await run(referenceInferenceGraph(config, tasks, options), params, feeds);
  const fused = fusedInferenceGraph(config, tasks, { ...options, epilogues }, params);
  const out = await run(fused.graph, fused.params, feeds);
  expect(Object.keys(out).sort()).toEqual(Object.keys(reference).sort());
  for (const [name, expected] of Object.entries(reference)) {
    const got = out[name];
    expect(got?.shape, name).toEqual(expected.shape);
    expect(maxAbsDiff(got?.data as Float32Array, expected.data as Float32Array), name).toBeLessThan(PROBS_TOLERANCE);
  }
  return reference;
}

describe('fusedInferenceGraph matches referenceInferenceGraph', () => {
  const roberta = { convention: 'roberta', paddingIdx: 1 } as const;
  const bert = { convention: 'bert' } as const;

  it.each([
    ['bert', 'cls', 'linear', bert, 'standard'],
    ['bert', 'mean', 'linear', bert, 'standard'],
    ['roberta', 'cls', 'linear', roberta, 'standard'],
    ['roberta', 'mean', 'linear', roberta, 'standard'],
    ['bert', 'mean', 'linear', bert, 'contrib'],
    ['roberta', 'cls', 'linear', roberta, 'contrib'],
    ['bert', 'cls', 'bert', bert, 'standard'],
    ['roberta', 'cls', 'roberta', roberta, 'standard'],
    ['roberta', 'mean', 'bert', roberta, 'standard'],
  ] as const)('%s positions, %s pooling, %s heads, %s epilogues, rows of different lengths in one batch', async (_, pooling, headStyle, positions, epilogues) => {
    const padId = positions.convention === 'roberta' ? 1 : 0;
    const reference = await compare(tinyConfig(), TASKS, { pooling, headStyle, positions }, [7, 3, 12, 1, 12], padId, epilogues);
    // The probabilities are far from uniform, so the tolerance above is a real bound.
    const probs = reference['probs:sentiment']?.data as Float32Array;
    expect(Math.max(...probs) - Math.min(...probs)).toBeGreaterThan(0.2);
  });

  it('a single-task model outputs logits as well', async () => {
    const results = await compare(tinyConfig(), [TASKS[0] as TaskHead], { pooling: 'cls', headStyle: 'linear', positions: roberta }, [5, 9], 1);
    expect(Object.keys(results).sort()).toEqual(['logits', 'probs:sentiment']);
  });

  it('batch of one, unpadded, and a config with one token type (XLM-R)', async () => {
    await compare(tinyConfig({ typeVocabSize: 1 }), TASKS, { pooling: 'mean', headStyle: 'linear', positions: roberta }, [10], 1);
  });
});

describe('fusedInferenceGraph structure', () => {
  const config = tinyConfig({ numHiddenLayers: 3 });
  const options: InferenceGraphOptions = { pooling: 'cls', headStyle: 'linear', positions: { convention: 'roberta', paddingIdx: 1 } };
  const params = randomParams(config, TASKS, options, 1);
  const fused = fusedInferenceGraph(config, TASKS, options, params);

  it('is built from the fused kernels: one EmbedLayerNormalization, one Attention per layer, dense layers as MatMul + Add', () => {
    const counts = opCounts(fused.graph);
    expect(counts).toMatchObject({ EmbedLayerNormalization: 1, Attention: 3, MatMul: 9, LayerNormalization: 6, Gelu: 3, Gemm: 2 });
    expect(counts.Add).toBe(3 * 5 + 1); // per layer 3 biases and 2 residuals; one for the RoBERTa position ids
    expect(counts.Softmax).toBe(1); // the multiclass head's probabilities only
    expect(counts.SkipLayerNormalization).toBeUndefined();
  });

  it("uses SkipLayerNormalization and BiasGelu with the 'contrib' epilogues", () => {
    const counts = opCounts(fusedInferenceGraph(config, TASKS, { ...options, epilogues: 'contrib' }, params).graph);
    expect(counts).toMatchObject({ EmbedLayerNormalization: 1, Attention: 3, SkipLayerNormalization: 6, BiasGelu: 3, MatMul: 9, Gemm: 2 });
    expect(counts.LayerNormalization).toBeUndefined();
    expect(counts.Add).toBe(1); // the RoBERTa position ids
  });

  it('keeps the reference contract: int64 input_ids and attention_mask [batch, seq], probabilities per task', () => {
    expect(fused.graph.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['input_ids', 'int64', ['batch', 'seq']],
      ['attention_mask', 'int64', ['batch', 'seq']],
    ]);
    expect(fused.graph.outputs.map((v) => [v.name, v.shape])).toEqual([['probs:sentiment', ['batch', 3]], ['probs:topics', ['batch', 4]]]);
  });

  it('names repacked tensors apart from checkpoint keys and shares the unchanged ones', () => {
    const qkv = fused.params.get('encoder.layer.0.attention.self.qkv.kernel');
    expect(qkv?.shape).toEqual([24, 72]);
    expect(fused.params.get('encoder.layer.2.intermediate.dense.kernel')?.shape).toEqual([24, 40]);
    expect(fused.params.has('encoder.layer.0.attention.self.query.weight')).toBe(false);
    expect(fused.params.has('encoder.layer.0.intermediate.dense.weight')).toBe(false);
    // The word embedding table is the checkpoint's array itself: no copy of a 250k-row table.
    expect(fused.params.get('embeddings.word_embeddings.weight')?.data).toBe(params.get('embeddings.word_embeddings.weight')?.data);
    // Packed kernel column j < hidden is the query weight's row j.
    const query = params.get('encoder.layer.0.attention.self.query.weight')?.data as Float32Array;
    const value = params.get('encoder.layer.0.attention.self.value.weight')?.data as Float32Array;
    const kernel = qkv?.data as Float32Array;
    expect(kernel[5 * 72 + 7]).toBe(query[7 * 24 + 5]);
    expect(kernel[5 * 72 + 48 + 7]).toBe(value[7 * 24 + 5]);
    expect([...fused.params.keys()].sort()).toEqual(fused.graph.params.map((p) => p.name).sort());
  });

  it('names the missing parameter when the store does not fit the config', () => {
    const partial = new Map(params);
    partial.delete('encoder.layer.1.attention.self.key.weight');
    expect(() => fusedInferenceGraph(config, TASKS, options, partial)).toThrow(/tensor "encoder\.layer\.1\.attention\.self\.key\.weight": the parameters lack this tensor \(expected \[24, 24\]\)/);
  });
});

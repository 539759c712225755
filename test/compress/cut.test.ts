// Per-layer encoder shapes and the physical cut: a model with heads and FFN neurons cut out computes what the
// full model computes with those parts' contributions zeroed; the shapes survive a save and reload; the fused and
// int8 exports take them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hfModelConfig, loadHfParams, saveHfModel } from '../../src/checkpoint/index.ts';
import { cutHeadsAndNeurons, keepLayers } from '../../src/compress/prune/cut.ts';
import { chooseWeightBits, readCpuFlags } from '../../src/export/cpu-features.ts';
import { fusedInferenceGraph } from '../../src/export/fused.ts';
import { type InferenceGraphOptions, referenceInferenceGraph } from '../../src/export/graph.ts';
import { quantizeDynamicInt8 } from '../../src/export/quantize.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Parameter, ParamStore } from '../../src/ir/params.ts';
import { type EncoderConfig, encoderConfig, forwardMatmulFlops, layerShapes } from '../../src/models/config.ts';
import { type Results, Session } from '../../src/runtime/session.ts';
import { maxAbsDiff, opCounts, paddedBatch, randomParams, TASKS, tinyConfig } from '../export/fixtures.ts';

const options: InferenceGraphOptions = { pooling: 'mean', headStyle: 'linear', positions: { convention: 'roberta', paddingIdx: 1 } };
const config = tinyConfig({ numHiddenLayers: 3 }); // hidden 24, 4 heads of 6, FFN 40
const params = randomParams(config, TASKS, options, 11);
const feeds = paddedBatch(config, [9, 4, 12], 1, 5);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function probs(graph: Graph, store: ParamStore): Promise<Results> {
  const session = await Session.create(graph, { params: store, threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function expectClose(a: Results, b: Results, tolerance: number): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const [name, t] of Object.entries(a)) {
    expect(maxAbsDiff(t.data as Float32Array, b[name]?.data as Float32Array), name).toBeLessThan(tolerance);
  }
}

/** A copy of the full model whose listed columns of a layer's matrix are zero: those inputs contribute nothing. */
function zeroColumns(store: ParamStore, name: string, columns: readonly number[]): Map<string, Parameter> {
  const out = new Map(store);
  const p = store.get(name) as Parameter;
  const width = p.shape[1] as number;
  const data = p.data.slice();
  for (let r = 0; r < (p.shape[0] as number); r++) for (const c of columns) data[r * width + c] = 0;
  out.set(name, { ...p, data });
  return out;
}

const HEAD = 6;
const blocks = (heads: number[]): number[] => heads.flatMap((h) => Array.from({ length: HEAD }, (_, i) => h * HEAD + i));

describe('cutting heads and FFN neurons', () => {
  // Layer 0 loses heads 1 and 3 and keeps 25 of 40 neurons; layer 2 loses head 0; layer 1 is untouched.
  const keepNeurons = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 !== 1 || i > 30);
  const cut = cutHeadsAndNeurons(config, params, { 0: { removeHeads: [3, 1], keepNeurons }, 2: { removeHeads: [0] } });

  it('describes the result per layer, in transformers\' pruned_heads terms', () => {
    expect(cut.config.prunedHeads).toEqual({ 0: [1, 3], 2: [0] });
    expect(layerShapes(cut.config).map((s) => [s.heads, s.attentionSize, s.intermediateSize])).toEqual([
      [[0, 2], 12, keepNeurons.length], [[0, 1, 2, 3], 24, 40], [[1, 2, 3], 18, 40],
    ]);
    expect(cut.params.get('encoder.layer.0.attention.self.query.weight')?.shape).toEqual([12, 24]);
    expect(cut.params.get('encoder.layer.0.attention.output.dense.weight')?.shape).toEqual([24, 12]);
    expect(cut.params.get('encoder.layer.0.output.dense.weight')?.shape).toEqual([24, keepNeurons.length]);
    expect(forwardMatmulFlops(cut.config, 2, 8, 3)).toBeLessThan(forwardMatmulFlops(config, 2, 8, 3));
  });

  it('computes what the full model computes with the removed heads and neurons zeroed (within 1e-5)', async () => {
    const removedNeurons = Array.from({ length: 40 }, (_, i) => i).filter((i) => !keepNeurons.includes(i));
    let masked = zeroColumns(params, 'encoder.layer.0.attention.output.dense.weight', blocks([1, 3]));
    masked = zeroColumns(masked, 'encoder.layer.0.output.dense.weight', removedNeurons);
    masked = zeroColumns(masked, 'encoder.layer.2.attention.output.dense.weight', blocks([0]));
    const expected = await probs(referenceInferenceGraph(config, TASKS, options), masked);
    const got = await probs(referenceInferenceGraph(cut.config, TASKS, options), cut.params);
    expectClose(got, expected, 1e-5);
    // …and the cut matters: the unmasked full model differs.
    const full = await probs(referenceInferenceGraph(config, TASKS, options), params);
    expect(maxAbsDiff(full['probs:sentiment']?.data as Float32Array, got['probs:sentiment']?.data as Float32Array)).toBeGreaterThan(1e-3);
  });

  it('cuts again from a cut model, heads named by their index before any pruning', async () => {
    const again = cutHeadsAndNeurons(cut.config, cut.params, { 0: { removeHeads: [2] } });
    expect(again.config.prunedHeads?.[0]).toEqual([1, 2, 3]);
    const masked = zeroColumns(cut.params, 'encoder.layer.0.attention.output.dense.weight', blocks([1])); // head 2 is block 1 now
    expectClose(await probs(referenceInferenceGraph(again.config, TASKS, options), again.params),
      await probs(referenceInferenceGraph(cut.config, TASKS, options), masked), 1e-5);
  });

  it('refuses a head the layer no longer has, all heads of a layer, and neuron lists out of range or out of order', () => {
    expect(() => cutHeadsAndNeurons(cut.config, cut.params, { 0: { removeHeads: [1] } })).toThrow(/layer 0 has no head 1/);
    expect(() => cutHeadsAndNeurons(config, params, { 1: { removeHeads: [0, 1, 2, 3] } })).toThrow(/keep no attention head/);
    expect(() => cutHeadsAndNeurons(config, params, { 5: { removeHeads: [0] } })).toThrow(/no such layer/);
    expect(() => cutHeadsAndNeurons(config, params, { 1: { keepNeurons: [0, 40] } })).toThrow(/out of range/);
    expect(() => cutHeadsAndNeurons(config, params, { 1: { keepNeurons: [3, 2] } })).toThrow(/ascending/);
    expect(() => cutHeadsAndNeurons(config, params, { 1: { keepNeurons: [] } })).toThrow(/no layer 1's FFN neurons would be left/);
  });
});

describe('keeping layers', () => {
  it('renumbers the kept layers and carries their shapes; the result equals a model built from those layers', async () => {
    const cut = cutHeadsAndNeurons(config, params, { 2: { removeHeads: [0], keepNeurons: [0, 5, 9] } });
    const kept = keepLayers(cut.config, cut.params, [0, 2]);
    expect(kept.config.numHiddenLayers).toBe(2);
    expect(kept.config.prunedHeads).toEqual({ 1: [0] });
    expect(kept.config.intermediateSizes).toEqual([40, 3]);
    expect([...kept.params.keys()].some((k) => k.startsWith('encoder.layer.2.'))).toBe(false);
    expect(kept.params.get('encoder.layer.1.intermediate.dense.weight')).toEqual({ ...cut.params.get('encoder.layer.2.intermediate.dense.weight'), name: 'encoder.layer.1.intermediate.dense.weight' });
    const out = await probs(referenceInferenceGraph(kept.config, TASKS, options), kept.params);
    expect(out['probs:sentiment']?.shape).toEqual([3, 3]);
  });

  it('refuses an empty list, an index out of range and a repeated index', () => {
    expect(() => keepLayers(config, params, [])).toThrow(/no layers would be left/);
    expect(() => keepLayers(config, params, [0, 3])).toThrow(/out of range/);
    expect(() => keepLayers(config, params, [1, 1])).toThrow(/ascending and unique/);
  });
});

describe('per-layer shapes', () => {
  const cut = cutHeadsAndNeurons(config, params, {
    0: { removeHeads: [0, 2], keepNeurons: [1, 2, 3, 7, 11, 20] },
    1: { removeHeads: [3] },
  });

  it('round-trip through config.json (pruned_heads, xlmt_intermediate_sizes) and model.safetensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlmt-cut-'));
    dirs.push(dir);
    await saveHfModel(dir, { config: hfModelConfig(cut.config, { modelType: 'xlm-roberta' }), params: cut.params });
    const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(json['pruned_heads']).toEqual({ 0: [0, 2], 1: [3] });
    expect(json['xlmt_intermediate_sizes']).toEqual([6, 40, 40]);
    expect(json['num_attention_heads']).toBe(4); // the size heads had before pruning, as transformers keeps it
    const expected = referenceInferenceGraph(cut.config, TASKS, options).params.map((p) => ({ name: p.name, shape: p.shape }));
    const loaded = await loadHfParams(dir, expected);
    expect(loaded.config.encoder).toEqual(cut.config);
    expectClose(await probs(referenceInferenceGraph(loaded.config.encoder, TASKS, options), loaded.params),
      await probs(referenceInferenceGraph(cut.config, TASKS, options), cut.params), 1e-7);
  });

  it.each(['standard', 'contrib'] as const)('the fused export (%s epilogues) equals the reference forward within 1e-4', async (epilogues) => {
    const fused = fusedInferenceGraph(cut.config, TASKS, { ...options, epilogues }, cut.params);
    expect(opCounts(fused.graph).Attention).toBe(3);
    expectClose(await probs(fused.graph, fused.params), await probs(referenceInferenceGraph(cut.config, TASKS, options), cut.params), 1e-4);
  });

  it('the int8 export quantizes the narrower attention too and stays close', async () => {
    const fused = fusedInferenceGraph(cut.config, TASKS, options, cut.params);
    // At the weight range this CPU's int8 kernels compute exactly (cpu-features.ts): 8-bit weights saturate without VNNI.
    const q = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: true, weightBits: chooseWeightBits(readCpuFlags()).bits });
    expect(opCounts(q.graph)).toMatchObject({ QAttention: 3, DynamicQuantizeMatMul: 9 });
    const out = await probs(q.graph, q.params);
    const reference = await probs(fused.graph, fused.params);
    expect(maxAbsDiff(out['probs:sentiment']?.data as Float32Array, reference['probs:sentiment']?.data as Float32Array)).toBeLessThan(0.05);
  });
});

describe('encoderConfig checks the per-layer fields', () => {
  const base: Partial<EncoderConfig> = { hiddenSize: 24, numAttentionHeads: 4, numHiddenLayers: 2, intermediateSize: 40 };
  it.each([
    [{ prunedHeads: { 2: [0] } }, /name a layer the encoder does not have/],
    [{ prunedHeads: { 0: [4] } }, /removes a head it does not have/],
    [{ prunedHeads: { 1: [0, 1, 2, 3] } }, /would keep no attention head/],
    [{ intermediateSizes: [40] }, /do not match the number of layers/],
    [{ intermediateSizes: [40, 0] }, /layer 1 has no FFN neuron left/],
  ] as const)('%j is refused', (fields, message) => {
    expect(() => encoderConfig({ ...base, ...fields })).toThrow(message);
  });

  it('writes one form only: equal FFN sizes become intermediateSize, empty head lists vanish', () => {
    const c = encoderConfig({ ...base, intermediateSizes: [16, 16], prunedHeads: { 0: [], 1: [2, 0, 2] } });
    expect(c.intermediateSize).toBe(16);
    expect(c.intermediateSizes).toBeUndefined();
    expect(c.prunedHeads).toEqual({ 1: [0, 2] });
  });

  it('config.json errors name the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlmt-cut-'));
    dirs.push(dir);
    const { parseHfConfig } = await import('../../src/checkpoint/index.ts');
    const json = { model_type: 'bert', hidden_size: 24, num_attention_heads: 4, num_hidden_layers: 2, pruned_heads: { 1: [0, 1, 2, 3] } };
    expect(() => parseHfConfig(json, join(dir, 'config.json'))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', where: { file: join(dir, 'config.json'), field: 'pruned_heads.1' } }));
    expect(() => parseHfConfig({ ...json, pruned_heads: {}, xlmt_intermediate_sizes: [3] }, 'c.json')).toThrow(expect.objectContaining({ where: { file: 'c.json', field: 'xlmt_intermediate_sizes' } }));
  });
});

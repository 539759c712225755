// Int8 word embeddings: the per-row quantization round trip, the unfolded EmbedLayerNormalization (before/after
// graphs, exact when the table's rows round without error), how far the int8 table moves probabilities, and size.
import { describe, expect, it } from 'vitest';
import { serialize } from '../../src/builder/serialize.ts';
import { fusedInferenceGraph } from '../../src/export/fused.ts';
import type { InferenceGraphOptions } from '../../src/export/graph.ts';
import { dequantizeRows, quantizeRows } from '../../src/export/int8.ts';
import { quantizeWordEmbeddings } from '../../src/export/quantize-embeddings.ts';
import { quantizeDynamicInt8 } from '../../src/export/quantize.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Parameter, ParamStore } from '../../src/ir/params.ts';
import { type Feeds, type Results, Session } from '../../src/runtime/session.ts';
import { Random } from '../../src/util/random.ts';
import { maxAbsDiff, opCounts, paddedBatch, randomParams, TASKS, tinyConfig } from './fixtures.ts';

const WORD = 'embeddings.word_embeddings.weight';
const roberta: InferenceGraphOptions = { pooling: 'cls', headStyle: 'linear', positions: { convention: 'roberta', paddingIdx: 1 } };
const bert: InferenceGraphOptions = { pooling: 'mean', headStyle: 'linear', positions: { convention: 'bert' } };

async function run(graph: Graph, params: ParamStore, feeds: Feeds): Promise<Results> {
  const session = await Session.create(graph, { params, threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function probsDiff(a: Results, b: Results): number {
  return Math.max(...TASKS.map((t) => maxAbsDiff(a[`probs:${t.name}`]?.data as Float32Array, b[`probs:${t.name}`]?.data as Float32Array)));
}

describe('quantizeRows', () => {
  const random = new Random(3);
  const rows = 6;
  const width = 9;
  // Row 2 all zero (a padding row); row 4 a hundred times larger than the others.
  const table = new Float32Array(rows * width).map((_, i) => {
    const r = Math.floor(i / width);
    return r === 2 ? 0 : random.normal() * (r === 4 ? 100 : 1);
  });

  it('gives each row its own scale, max|row| / 127, and codes within −127…127 that reach ±127 on every non-zero row', () => {
    const q = quantizeRows(table, rows, width);
    expect(q.scales).toHaveLength(rows);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(table.subarray(r * width, (r + 1) * width));
      const codes = Array.from(q.codes.subarray(r * width, (r + 1) * width));
      if (r === 2) {
        expect(q.scales[r]).toBe(1);
        expect(codes.every((c) => c === 0)).toBe(true);
        continue;
      }
      expect(q.scales[r]).toBeCloseTo(Math.max(...row.map(Math.abs)) / 127, 6);
      expect(Math.max(...codes.map(Math.abs))).toBe(127);
    }
  });

  it('round-trips every value within half its row\'s step', () => {
    const q = quantizeRows(table, rows, width);
    const back = dequantizeRows(q, width);
    for (let i = 0; i < table.length; i++) {
      const step = q.scales[Math.floor(i / width)] as number;
      // The product code · scale is itself rounded to float32: a relative 2^-24 on top of the half step.
      expect(Math.abs((back[i] as number) - (table[i] as number))).toBeLessThanOrEqual(step / 2 + Math.abs(table[i] as number) * 2 ** -23);
    }
  });

  it('refuses values that do not fill the shape', () => {
    expect(() => quantizeRows(new Float32Array(5), 2, 3)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('quantizeWordEmbeddings', () => {
  const config = tinyConfig({ hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2 });
  const random = new Random(11);
  const lengths = Array.from({ length: 64 }, () => 1 + random.int(18));

  it.each([['roberta', roberta], ['bert', bert]] as const)('unfolds EmbedLayerNormalization into an int8 lookup read by input_ids (%s positions)', (_, options) => {
    const params = randomParams(config, TASKS, options, 7, 0.1);
    const fused = fusedInferenceGraph(config, TASKS, options, params);
    const q = quantizeWordEmbeddings(fused.graph, fused.params);
    expect(q.skipped).toEqual([]);
    const counts = opCounts(q.graph);
    expect(counts.EmbedLayerNormalization).toBeUndefined();
    expect(counts.LayerNormalization).toBe((opCounts(fused.graph).LayerNormalization ?? 0) + 1);
    const codes = q.graph.constants.find((c) => c.name === `${WORD}_quantized`);
    const scales = q.graph.constants.find((c) => c.name === `${WORD}_scale`);
    expect(codes?.data?.dtype).toBe('int8');
    expect(codes?.shape).toEqual([config.vocabSize, config.hiddenSize]);
    expect(scales?.data?.dtype).toBe('float32');
    expect(scales?.shape).toEqual([config.vocabSize, 1]);
    // Both tables are gathered by the graph input itself, so trimming the vocabulary trims codes and scales alike.
    const gathers = q.graph.nodes.filter((n) => n.opType === 'Gather' && (n.inputs[0] === codes || n.inputs[0] === scales));
    expect(gathers.map((n) => n.inputs[1]?.name)).toEqual(['input_ids', 'input_ids']);
    expect(gathers.every((n) => n.inputs[1]?.kind === 'input')).toBe(true);
    // The float table is gone from the graph and its store; nothing else is.
    expect(q.graph.params.some((p) => p.name === WORD)).toBe(false);
    expect([...q.params.keys()].sort()).toEqual([...fused.params.keys()].filter((k) => k !== WORD).sort());
    // The Cast the fused kernel read ids through has no reader left and is gone.
    expect(q.graph.nodes.filter((n) => n.opType === 'Cast' && n.inputs[0]?.name === 'input_ids' && n.attributes.to?.value === 6)).toEqual([]);
  });

  // A table of k · 2^-10 with |k| ≤ 127 and 127 in every row rounds without error (scale 2^-10, codes k), so the
  // unfolded graph must compute what EmbedLayerNormalization computes, up to summation order: positions (both
  // conventions), epsilon, gamma and beta.
  it.each([['roberta', roberta, 1], ['bert', bert, 0]] as const)('computes what the fused kernel computes when the rows round exactly (%s positions)', async (_, options, padId) => {
    const params = new Map(randomParams(config, TASKS, options, 7, 0.1));
    const word = params.get(WORD) as Parameter;
    const exact = new Float32Array(word.data.length).map((_, i) => (i % config.hiddenSize === 0 ? 127 : random.int(255) - 127) / 1024);
    params.set(WORD, { ...word, data: exact });
    const fused = fusedInferenceGraph(config, TASKS, options, params);
    const q = quantizeWordEmbeddings(fused.graph, fused.params);
    const feeds = paddedBatch(config, lengths, padId, 3);
    expect(probsDiff(await run(q.graph, q.params, feeds), await run(fused.graph, fused.params, feeds))).toBeLessThan(1e-5);
  });

  // Rounding moves each table value by at most half its row's step (max|row| / 254), which LayerNorm and two layers
  // of this model turn into probability moves of at most 7.6e-4 (measured; bound 5e-3). After the weights' int8
  // pass, whose activations are quantized per batch, the table's own effect measured 2.9e-3 (bound 1e-2). A table
  // read from the wrong rows, or unscaled codes, moves them by 0.1 or more.
  it('stays close to the fp32 table, alone and after quantizeDynamicInt8', async () => {
    const params = randomParams(config, TASKS, roberta, 7, 0.1);
    const fused = fusedInferenceGraph(config, TASKS, roberta, params);
    const feeds = paddedBatch(config, lengths, 1, 3);
    const fp32 = await run(fused.graph, fused.params, feeds);
    const table = quantizeWordEmbeddings(fused.graph, fused.params);
    expect(probsDiff(await run(table.graph, table.params, feeds), fp32)).toBeLessThan(5e-3);
    // The two passes compose in either order into the same graph.
    const weights = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: true });
    const both = quantizeWordEmbeddings(weights.graph, weights.params);
    const reversed = quantizeDynamicInt8(table.graph, table.params, { perChannel: true });
    expect(opCounts(both.graph)).toEqual(opCounts(reversed.graph));
    expect(opCounts(both.graph)).toMatchObject({ DynamicQuantizeMatMul: 6, QAttention: 2 });
    const int8Weights = await run(weights.graph, weights.params, feeds);
    const int8Both = await run(both.graph, both.params, feeds);
    expect(probsDiff(int8Both, int8Weights)).toBeLessThan(1e-2);
  });

  it('shrinks the serialized model by three bytes per table value, the table stored as an int8 initializer', () => {
    const wide = tinyConfig({ vocabSize: 2000, hiddenSize: 32, intermediateSize: 48 });
    const params = randomParams(wide, TASKS, roberta, 5, 0.1);
    const fused = fusedInferenceGraph(wide, TASKS, roberta, params);
    const q = quantizeWordEmbeddings(fused.graph, fused.params);
    const before = serialize(fused.graph, { params: fused.params }).length;
    const after = serialize(q.graph, { params: q.params }).length;
    const values = wide.vocabSize * wide.hiddenSize;
    // 4 → 1 byte per value, plus one 4-byte scale per row, give or take the few small nodes the unfolding adds.
    expect(before - after).toBeGreaterThan(3 * values - 4 * wide.vocabSize - 2000);
    expect(before - after).toBeLessThan(3 * values - 4 * wide.vocabSize + 2000);
  });

  it('leaves a word table it cannot quantize, saying why', () => {
    const params = randomParams(config, TASKS, roberta, 7, 0.1);
    const fused = fusedInferenceGraph(config, TASKS, roberta, params);
    const store = new Map(fused.params);
    store.delete(WORD);
    const q = quantizeWordEmbeddings(fused.graph, store);
    expect(opCounts(q.graph).EmbedLayerNormalization).toBe(1);
    expect(q.skipped).toEqual([{ node: 'embeddings/EmbedLayerNormalization', opType: 'EmbedLayerNormalization', reason: `weight ${WORD} has no value in the parameter store` }]);
  });
});

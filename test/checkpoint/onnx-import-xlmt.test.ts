// `xlmt import --from model.onnx` on graphs xlmt writes itself: the unfused encoder forward graph (BERT and XLM-R
// positions in-graph), the fused export graph (EmbedLayerNormalization, Attention; both epilogue kinds) and its int8
// form (DynamicQuantizeMatMul, QAttention; the word table in int8 rows). The recovered parameters are the originals.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { serialize } from '../../src/builder/serialize.ts';
import { canonicalName, readSafetensors, toFloat32 } from '../../src/checkpoint/index.ts';
import { maxAbsDiff } from '../../src/checkpoint/onnx-import/check.ts';
import { importOnnxEncoder } from '../../src/checkpoint/onnx-import/index.ts';
import { fusedInferenceGraph } from '../../src/export/fused.ts';
import { chooseWeightBits, readCpuFlags } from '../../src/export/cpu-features.ts';
import { positionIdsInGraph } from '../../src/export/graph.ts';
import { maxWeightCode } from '../../src/export/int8.ts';
import { quantizeDynamicInt8 } from '../../src/export/quantize.ts';
import { quantizeWordEmbeddings } from '../../src/export/quantize-embeddings.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import type { PositionConvention } from '../../src/tokenize/index.ts';
import { wordPieceJson } from '../train/fixtures.ts';
import { tempDir } from './helpers.ts';

const config = encoderConfig({ vocabSize: 120, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 24, maxPositionEmbeddings: 40, typeVocabSize: 2, layerNormEps: 1e-5 });
const BERT: PositionConvention = { convention: 'bert' };
const ROBERTA: PositionConvention = { convention: 'roberta', paddingIdx: 0 }; // the WordPiece fixture pads with id 0
// The weight range this CPU's int8 kernels compute exactly (cpu-features.ts): 8-bit weights saturate without VNNI.
const BITS = chooseWeightBits(readCpuFlags()).bits;

/** The encoder forward graph (input_ids, attention_mask → last_hidden_state) and random parameters for it. */
function unfused(positions: PositionConvention): { bytes: Uint8Array; params: Map<string, Parameter> } {
  const g = new GraphBuilder('encoder');
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const hidden = encoder(g, config, {
    inputIds,
    positionIds: positionIdsInGraph(g, inputIds, mask, positions),
    tokenTypeIds: g.op.Mul(inputIds, 0),
    attentionMask: g.op.Cast(mask, 'float32'),
  }, { training: false });
  g.output('last_hidden_state', hidden);
  const graph = g.build();
  const params = initParams(graph, 3, 0.3);
  // LayerNorm and bias values away from 1 and 0, so that a swapped or lost one shows.
  for (const [name, p] of params) if (p.shape.length === 1) p.data.forEach((_, i) => { p.data[i] = (name.endsWith('LayerNorm.weight') ? 1 : 0) + 0.1 * Math.sin(i + name.length); });
  return { bytes: serialize(graph, { params }), params };
}

async function importBytes(bytes: Uint8Array): Promise<{ report: Awaited<ReturnType<typeof importOnnxEncoder>>; tensors: Map<string, Float32Array> }> {
  const dir = await tempDir();
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(join(dir, 'tokenizer.json'), wordPieceJson(120));
  const report = await importOnnxEncoder(join(dir, 'model.onnx'), join(dir, 'out'), { tokenizer: join(dir, 'tokenizer.json') });
  const file = await readSafetensors(join(dir, 'out', 'model.safetensors'));
  return { report, tensors: new Map([...file.tensors].map(([k, t]) => [canonicalName(k), toFloat32(t.dtype, t.bytes).data])) };
}

describe.each([['BERT', BERT], ['XLM-R', ROBERTA]] as const)('the unfused encoder graph with %s positions', (_, positions) => {
  it('imports every parameter exactly and matches the file within 1e-4', async () => {
    const { bytes, params } = unfused(positions);
    const { report, tensors } = await importBytes(bytes);
    expect(report.config.modelType).toBe(positions.convention === 'bert' ? 'bert' : 'xlm-roberta');
    expect(report.config.encoder).toMatchObject({ numHiddenLayers: 2, hiddenSize: 16, numAttentionHeads: 4, intermediateSize: 24, maxPositionEmbeddings: 40, layerNormEps: 1e-5 });
    expect(report.quantization).toEqual([]);
    for (const c of report.check) expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    // The graph's token types are always 0: the whole table is still there, row for row.
    expect([...tensors.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [name, p] of params) expect(maxAbsDiff(tensors.get(name) ?? [], p.data), name).toBe(0);
  });
});

describe.each(['standard', 'contrib'] as const)('the fused export graph (%s epilogues)', (epilogues) => {
  it.each([['BERT', BERT], ['XLM-R', ROBERTA]] as const)('%s: imports the encoder, with token type 0 folded into the positions', async (_, positions) => {
    const { params } = unfused(positions);
    const tasks = [{ name: 'x', type: 'multiclass' as const, labels: ['a', 'b'] }];
    const headed = new Map(params);
    headed.set('heads.x.weight', { name: 'heads.x.weight', shape: [2, 16], data: new Float32Array(32).fill(0.1) });
    headed.set('heads.x.bias', { name: 'heads.x.bias', shape: [2], data: new Float32Array(2) });
    const fused = fusedInferenceGraph(config, tasks, { pooling: 'cls', headStyle: 'linear', positions, epilogues }, headed);
    const { report, tensors } = await importBytes(serialize(fused.graph, { params: fused.params }));
    expect(report.config.modelType).toBe(positions.convention === 'bert' ? 'bert' : 'xlm-roberta');
    expect(report.warnings.join('\n')).toMatch(/not imported: .*heads\.x/);
    for (const c of report.check) expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    for (const [name, p] of params) {
      if (name.startsWith('embeddings.position_embeddings') || name.startsWith('embeddings.token_type')) continue;
      expect(maxAbsDiff(tensors.get(name) ?? [], p.data), name).toBe(0);
    }
    // position + token type row 0, as EmbedLayerNormalization holds them; one zero token-type row.
    const position = params.get('embeddings.position_embeddings.weight') as Parameter;
    const type0 = (params.get('embeddings.token_type_embeddings.weight') as Parameter).data.subarray(0, 16);
    expect(maxAbsDiff(tensors.get('embeddings.position_embeddings.weight') ?? [], position.data.map((v, i) => v + (type0[i % 16] as number)))).toBeLessThanOrEqual(1e-7);
    expect([...(tensors.get('embeddings.token_type_embeddings.weight') ?? [])]).toEqual(new Array(16).fill(0));
  });
});

describe('the int8 export graph', () => {
  it('dequantizes DynamicQuantizeMatMul and QAttention weights, says so, and matches the file within the dynamic tolerance', async () => {
    const { params } = unfused(BERT);
    const tasks = [{ name: 'x', type: 'multiclass' as const, labels: ['a', 'b'] }];
    const headed = new Map(params);
    headed.set('heads.x.weight', { name: 'heads.x.weight', shape: [2, 16], data: new Float32Array(32).fill(0.1) });
    headed.set('heads.x.bias', { name: 'heads.x.bias', shape: [2], data: new Float32Array(2) });
    const fused = fusedInferenceGraph(config, tasks, { pooling: 'cls', headStyle: 'linear', positions: BERT }, headed);
    const int8 = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: true, weightBits: BITS });
    const { report, tensors } = await importBytes(serialize(int8.graph, { params: int8.params }));
    expect(report.quantization).toEqual(['int8 (DynamicQuantizeMatMul)', 'int8 (QAttention)']);
    expect(report.warnings.join('\n')).toMatch(/dequantized to float32/);
    expect(report.tolerance).toBe(0.1);
    for (const c of report.check) expect(c.maxAbsDiff).toBeLessThanOrEqual(report.tolerance);
    // Each weight within half an int8 step (max|column| / 127 / 2, or / 63 / 2 for 7-bit weights) of the original.
    for (const [name, p] of params) {
      if (!/(query|key|value|dense)\.weight$/.test(name)) continue;
      const step = Math.max(...p.data.map(Math.abs)) / maxWeightCode(BITS);
      expect(maxAbsDiff(tensors.get(name) ?? [], p.data), name).toBeLessThanOrEqual(step / 2 + 1e-7);
    }
  });
});

describe.each([['BERT', BERT], ['XLM-R', ROBERTA]] as const)('the int8 export graph with an int8 word table, %s positions', (_, positions) => {
  it('dequantizes the table from its rows and per-row scales, says so, and matches the file within the dynamic tolerance', async () => {
    const { params } = unfused(positions);
    const tasks = [{ name: 'x', type: 'multiclass' as const, labels: ['a', 'b'] }];
    const headed = new Map(params);
    headed.set('heads.x.weight', { name: 'heads.x.weight', shape: [2, 16], data: new Float32Array(32).fill(0.1) });
    headed.set('heads.x.bias', { name: 'heads.x.bias', shape: [2], data: new Float32Array(2) });
    const fused = fusedInferenceGraph(config, tasks, { pooling: 'cls', headStyle: 'linear', positions }, headed);
    const int8 = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: true, weightBits: BITS });
    const table = quantizeWordEmbeddings(int8.graph, int8.params);
    expect(table.tables).toEqual(['embeddings.word_embeddings.weight']);
    const { report, tensors } = await importBytes(serialize(table.graph, { params: table.params }));
    expect(report.config.modelType).toBe(positions.convention === 'bert' ? 'bert' : 'xlm-roberta');
    expect(report.quantization).toEqual(['int8 (DynamicQuantizeMatMul)', 'int8 (QAttention)', 'int8 rows (per-row scales)']);
    expect(report.check.map((c) => c.stage)).toEqual(['embeddings', 'layer 0', 'layer 1']);
    for (const c of report.check) expect(c.maxAbsDiff).toBeLessThanOrEqual(report.tolerance);
    // Each value within half its row's step (max|row| / 127 / 2) of the original.
    const word = params.get('embeddings.word_embeddings.weight') as Parameter;
    const got = tensors.get('embeddings.word_embeddings.weight') ?? new Float32Array();
    expect(got).toHaveLength(word.data.length);
    for (let r = 0; r < config.vocabSize; r++) {
      const row = word.data.subarray(r * 16, (r + 1) * 16);
      const step = Math.max(...row.map(Math.abs)) / 127;
      expect(maxAbsDiff(got.subarray(r * 16, (r + 1) * 16), row), `row ${r}`).toBeLessThanOrEqual(step / 2 + 1e-7);
    }
  });
});

// `xlmt import --from model.onnx` on encoders exported by torch (tools/reference/make_onnx_fixtures.py, committed
// under test/fixtures/onnx/): unfused BERT and XLM-R, ONNX Runtime's fused graph, int8 (quantize_dynamic) and
// 4-bit (MatMulNBits). The imported checkpoint reproduces the recorded transformers hidden states; no Python runs.
import { readFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalName, loadHfModel, readSafetensors, toFloat32 } from '../../src/checkpoint/index.ts';
import { maxAbsDiff, maxAbsDiffOnTokens, runXlmt } from '../../src/checkpoint/onnx-import/check.ts';
import { importOnnxEncoder } from '../../src/checkpoint/onnx-import/index.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { positionsOf } from '../../src/tokenize/index.ts';
import { tempDir } from './helpers.ts';

const FIXTURES = 'test/fixtures/onnx';
interface Recorded { input_ids: number[][]; attention_mask: number[][]; last_hidden_state: number[]; pooler_output: number[] }
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { models: Record<string, Recorded> };

async function tensors(path: string): Promise<Map<string, Float32Array>> {
  const file = await readSafetensors(path);
  return new Map([...file.tensors].map(([k, t]) => [canonicalName(k), toFloat32(t.dtype, t.bytes).data]));
}

/** The imported checkpoint's hidden states and pooled output on the recorded ids, through xlmt's encoder graph. */
async function forward(dir: string, recorded: Recorded): Promise<{ hidden: number; pooled: number }> {
  const model = await loadHfModel(dir);
  const params = new Map<string, Parameter>();
  for (const [key, t] of model.tensors) params.set(canonicalName(key), { name: canonicalName(key), shape: t.shape, data: toFloat32(t.dtype, t.bytes).data });
  const batch = recorded.input_ids.length;
  const seq = recorded.input_ids[0]?.length ?? 0;
  const b = { batch, seq, inputIds: BigInt64Array.from(recorded.input_ids.flat(), BigInt), mask: Float32Array.from(recorded.attention_mask.flat()) };
  const out = await runXlmt(model.config.encoder, params, b, positionsOf(model.config));
  const last = out.stages[out.stages.length - 1] as Float32Array;
  return {
    hidden: maxAbsDiffOnTokens(last, recorded.last_hidden_state, b.mask, model.config.encoder.hiddenSize),
    pooled: maxAbsDiff(out.pooled ?? [], recorded.pooler_output),
  };
}

// Tolerances against the recorded fp32 transformers outputs. Float sources: 1e-4, float reordering only. The
// quantized ones hold other weights than the original model (int8 per channel: step max|w|/127; 4-bit blocks of 16:
// step (max − min)/15, about 15× coarser), so their hidden states drift from the float model's by those steps
// carried through two layers: measured ~1e-2 (int8) and ~1e-1 (4-bit) on these random weights.
const CASES = [
  { file: 'bert-tiny', tokenizer: 'bert', model: 'bert-tiny', modelType: 'bert', tolerance: 1e-4, exact: true },
  { file: 'xlmr-tiny', tokenizer: 'xlmr', model: 'xlmr-tiny', modelType: 'xlm-roberta', tolerance: 1e-4, exact: true },
  { file: 'bert-tiny-fused', tokenizer: 'bert', model: 'bert-tiny', modelType: 'bert', tolerance: 1e-4, exact: true },
  { file: 'bert-tiny-int8', tokenizer: 'bert', model: 'bert-tiny', modelType: 'bert', tolerance: 5e-2, exact: false },
  { file: 'bert-tiny-int4', tokenizer: 'bert', model: 'bert-tiny', modelType: 'bert', tolerance: 0.3, exact: false },
] as const;

describe.each(CASES)('import $file.onnx', ({ file, tokenizer, model, modelType, tolerance, exact }) => {
  it('maps every tensor, passes its own check and reproduces transformers\' hidden states', async () => {
    const out = join(await tempDir(), 'imported');
    const report = await importOnnxEncoder(join(FIXTURES, `${file}.onnx`), out, { tokenizer: join(FIXTURES, `${tokenizer}-tokenizer.json`) });
    expect(report.config.modelType).toBe(modelType);
    expect(report.config.encoder).toMatchObject({ numHiddenLayers: 2, hiddenSize: 32, numAttentionHeads: 4, intermediateSize: 64, vocabSize: 100 });
    expect(report.config.padTokenId).toBe(modelType === 'bert' ? 0 : 1);
    expect(report.check.map((c) => c.stage)).toEqual(['embeddings', 'layer 0', 'layer 1', 'pooler']);
    for (const c of report.check) expect(c.maxAbsDiff).toBeLessThanOrEqual(report.tolerance);
    expect(report.quantization.length > 0).toBe(!exact);
    if (!exact) expect(report.warnings.join('\n')).toMatch(/dequantized to float32/);

    const original = await tensors(join(FIXTURES, `${model}.reference.safetensors`));
    const imported = await tensors(join(out, 'model.safetensors'));
    expect([...imported.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, data] of original) {
      const diff = maxAbsDiff(imported.get(name) ?? [], data);
      // Quantized weights are off by at most half a step of the coarsest scale (4-bit: (max − min)/15/2).
      expect(diff, name).toBeLessThanOrEqual(exact ? 0 : 0.1);
    }
    const diffs = await forward(out, expected.models[model] as Recorded);
    expect(diffs.hidden).toBeLessThanOrEqual(tolerance);
    expect(diffs.pooled).toBeLessThanOrEqual(tolerance);
    expect(JSON.parse((await readSafetensors(join(out, 'model.safetensors'))).metadata['xlmt_import'] ?? '{}')).toMatchObject({ quantization: report.quantization });
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(FIXTURES, `${tokenizer}-tokenizer.json`), 'utf8'));
  });
});

describe('refusals', () => {
  it('refuses a tokenizer with more tokens than the word embeddings', async () => {
    const dir = await tempDir();
    const big = JSON.parse(readFileSync(join(FIXTURES, 'bert-tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    for (let i = 0; i < 20; i++) big.model.vocab[`[extra${i}]`] = 100 + i;
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(big));
    await expect(importOnnxEncoder(join(FIXTURES, 'bert-tiny.onnx'), join(dir, 'out'), { tokenizer: join(dir, 'tokenizer.json') }))
      .rejects.toMatchObject({ code: 'TOKENIZER_MISMATCH', expected: expect.stringContaining('at most 100 tokens'), received: '120 tokens' });
  });

  it('refuses a graph that is not an encoder, saying what it found', async () => {
    const dir = await tempDir();
    // The BERT fixture with its lookups turned into GatherElements: input_ids reaches no embedding table.
    const { default: onnxProto } = await import('onnx-proto');
    const proto = onnxProto.onnx.ModelProto.decode(readFileSync(join(FIXTURES, 'bert-tiny.onnx')));
    for (const node of proto.graph?.node ?? []) if (node.opType === 'Gather') node.opType = 'GatherElements';
    await writeFile(join(dir, 'other.onnx'), onnxProto.onnx.ModelProto.encode(proto).finish());
    await expect(importOnnxEncoder(join(dir, 'other.onnx'), join(dir, 'out'), { tokenizer: join(FIXTURES, 'bert-tokenizer.json') }))
      .rejects.toMatchObject({ code: 'ONNX_NOT_ENCODER', problem: expect.stringContaining('no Gather on input_ids') });
  });

  it('refuses a layer whose attention block is not BERT\'s, naming the layer and the ops found', async () => {
    const dir = await tempDir();
    const { default: onnxProto } = await import('onnx-proto');
    const proto = onnxProto.onnx.ModelProto.decode(readFileSync(join(FIXTURES, 'bert-tiny.onnx')));
    // Layer 1's key projection multiplies by an activation instead of a weight: three dense layers remain.
    const key = proto.graph?.node?.find((n) => n.name === '/model/encoder/layer.1/attention/self/key/MatMul');
    if (!key?.input) throw new Error('fixture changed');
    key.input[1] = key.input[0] as string;
    await writeFile(join(dir, 'broken.onnx'), onnxProto.onnx.ModelProto.encode(proto).finish());
    await expect(importOnnxEncoder(join(dir, 'broken.onnx'), join(dir, 'out'), { tokenizer: join(FIXTURES, 'bert-tokenizer.json') }))
      .rejects.toMatchObject({ code: 'ONNX_NOT_ENCODER', problem: expect.stringMatching(/layer 1: the attention block/), received: expect.stringMatching(/found 3 dense layers/) });
  });

  it('refuses a file that is not ONNX, and writes nothing on any refusal', async () => {
    const dir = await tempDir();
    await copyFile(join(FIXTURES, 'bert-tokenizer.json'), join(dir, 'model.onnx'));
    await expect(importOnnxEncoder(join(dir, 'model.onnx'), join(dir, 'out'), { tokenizer: join(FIXTURES, 'bert-tokenizer.json') }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(() => readFileSync(join(dir, 'out', 'config.json'))).toThrow();
  });
});

// NaN and Inf are refused on every path of a trained model: eval and export refuse the weights when they load
// (naming file and tensor), the export check refuses a graph that gives them, and inference refuses a
// probability that is one (naming task and text) instead of answering null scores. Also: export is told to take
// a run, not an export directory (eval scores exports: test/train/assess-export.test.ts).
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serialize } from '../../src/builder/serialize.ts';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/index.ts';
import { evalCommand } from '../../src/cli/eval.ts';
import { checkExport } from '../../src/export/check.ts';
import { exportGraph, exportModel } from '../../src/export/export.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { resolveModelDir } from '../../src/train/assess.ts';
import { loadModelDir, type TrainedModel } from '../../src/train/model-dir.ts';
import { exportedModel, type ExportedFixture } from './exported-model.ts';

let fx: ExportedFixture;
let model: TrainedModel;
beforeAll(async () => {
  fx = await exportedModel();
  model = await loadModelDir(join(fx.run, 'best'));
}, 60_000);

const scratch = (): string => mkdtempSync(join(tmpdir(), 'xlmt-non-finite-'));

/** A copy of the run's best model with one weight of one encoder tensor set to `value`; returns it and the tensor. */
async function poisonedModel(value: number): Promise<{ dir: string; tensor: string }> {
  const dir = join(scratch(), 'model');
  cpSync(join(fx.run, 'best'), dir, { recursive: true });
  const weights = join(dir, 'model.safetensors');
  const file = await readSafetensors(weights);
  const tensor = [...file.tensors.keys()].find((k) => k.endsWith('encoder.layer.0.output.dense.weight'));
  const t = tensor === undefined ? undefined : file.tensors.get(tensor);
  if (tensor === undefined || t === undefined) throw new Error('the model has no encoder.layer.0.output.dense.weight');
  const bytes = t.bytes.slice();
  new DataView(bytes.buffer).setFloat32(4 * 5, value, true);
  await writeSafetensors(weights, [...file.tensors].map(([name, x]) => [name, name === tensor ? { ...x, bytes } : x] as const), file.metadata);
  return { dir, tensor };
}

/** The fp32 export with heads.sentiment.bias[0] set to NaN: every sentiment probability becomes NaN. */
function nanGraph(): Uint8Array {
  const { graph, params } = exportGraph(model, 'none');
  const bias = params.get('heads.sentiment.bias');
  if (!bias) throw new Error('the fused graph has no heads.sentiment.bias');
  const tampered = new Map(params);
  tampered.set(bias.name, { ...bias, data: bias.data.map((x, i) => (i === 0 ? NaN : x)) });
  return serialize(graph, { params: tampered });
}

describe('a model with a non-finite weight', () => {
  it.each([NaN, Infinity])('is refused by eval and export when %s is loaded, naming the file and the tensor', async (value) => {
    const { dir, tensor } = await poisonedModel(value);
    const refusal = { code: 'NON_FINITE', where: { file: join(dir, 'model.safetensors'), tensor }, details: { index: 5, value: String(value) } };
    const evaluation = evalCommand().parseAsync(['--model', dir, '--data', fx.data.dev, '--threads', '1'], { from: 'user' });
    await expect(evaluation).rejects.toMatchObject(refusal);
    await expect(evaluation).rejects.toThrow(`${join(dir, 'model.safetensors')}: tensor "${tensor}": element [0, 5] is ${value}`);
    const out = join(scratch(), 'export');
    await expect(exportModel(dir, out, { quantization: 'none', checkSample: 10, threads: 1 })).rejects.toMatchObject(refusal);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the export check', () => {
  it.each(['none', 'int8-per-channel'] as const)('fails (%s) when the exported graph gives NaN, naming the task', async (quantization) => {
    const check = checkExport(model, nanGraph(), { quantization, checkSample: 20, threads: 1, modelDir: join(fx.run, 'best') });
    await expect(check).rejects.toMatchObject({ code: 'EXPORT_CHECK_FAILED', where: { task: 'sentiment' }, cause: { code: 'NON_FINITE' } });
    await expect(check).rejects.toThrow(/^task "sentiment": the exported graph gives a non-finite probability where the reference graph does not \(.*is NaN\); nothing was written/);
  });
});

describe('inference', () => {
  it('refuses a NaN probability with NON_FINITE, naming the task and the text in input order', async () => {
    const dir = join(scratch(), 'export');
    cpSync(fx.dir, dir, { recursive: true });
    writeFileSync(join(dir, 'onnx', 'model.onnx'), nanGraph());
    const classifier = await OnnxClassifier.load(dir, { threads: 1 });
    try {
      // Batches run shortest first, so the first NaN met is text 1's; the error still names it by input order.
      const classified = classifier.classify(['great service and friendly staff at a fair price', 'ok'], ['topics', 'sentiment']);
      await expect(classified).rejects.toMatchObject({
        code: 'NON_FINITE',
        where: { file: join(dir, 'onnx', 'model.onnx'), task: 'sentiment' },
        details: { task: 'sentiment', text: 1, label: 'negative', value: 'NaN' },
      });
      await expect(classified).rejects.toThrow('task "sentiment": the probability of "negative" for text 1 is NaN (expected a probability from 0 to 1)');
      const [topics] = await classifier.classify(['ok'], ['topics']);
      expect(Object.values(topics?.tasks['topics']?.scores ?? {}).every((p) => Number.isFinite(p))).toBe(true);
    } finally {
      await classifier.release();
    }
  });
});

describe('export given an export directory', () => {
  it('answers NOT_A_MODEL, pointing at the model it came from and at xlmt predict', async () => {
    const refusal = {
      code: 'NOT_A_MODEL',
      where: { file: fx.dir, field: '--model' },
      problem: 'an export directory (onnx/model.onnx, no model.safetensors), not a trained model',
      hint: `give the model it was exported from, --model ${join(fx.run, 'best')}; to score texts with the export itself, use xlmt predict --model ${fx.dir} --in FILE --out FILE (or xlmt serve)`,
    };
    expect(() => resolveModelDir(fx.dir)).toThrow(expect.objectContaining(refusal));
    await expect(exportModel(fx.dir, join(scratch(), 'again'), { quantization: 'none', checkSample: 10, threads: 1 })).rejects.toMatchObject(refusal);
  });

  it('say what they take when the directory holds no model, or does not exist', () => {
    const empty = scratch();
    expect(() => resolveModelDir(empty)).toThrow(expect.objectContaining({ code: 'NOT_A_MODEL', problem: 'neither a model directory nor a run directory' }));
    expect(() => resolveModelDir(join(empty, 'nope'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND', where: { file: join(empty, 'nope'), field: '--model' } }));
  });
});

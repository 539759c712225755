// An int8 export end to end: written only after its self-check, which reports the macro-F1 change on the run's
// dev file; the directory then serves through the same runtime.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serialize } from '../../src/builder/serialize.ts';
import { checkExport } from '../../src/export/check.ts';
import { exportGraph, exportModel } from '../../src/export/export.ts';
import { loadModelDir } from '../../src/train/model-dir.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { exportedModel, type ExportedFixture } from './exported-model.ts';

let fx: ExportedFixture;
beforeAll(async () => {
  fx = await exportedModel({ quantization: 'int8-per-channel' });
}, 60_000);

describe('xlmt export --int8', () => {
  it('reports the change of macro-F1 on a sample of the run\'s dev file', () => {
    const { check, opCounts } = fx.report;
    expect(check.data).toBe(fx.data.dev);
    expect(check.tolerance).toBeNull();
    expect(opCounts['DynamicQuantizeMatMul']).toBeGreaterThan(0);
    for (const t of check.tasks) {
      expect(t.referenceMacroF1).toBeGreaterThan(0);
      expect(t.macroF1Change).toBeCloseTo((t.exportedMacroF1 as number) - (t.referenceMacroF1 as number), 12);
      expect(t.agreement).toBeGreaterThan(0.8);
      expect(t.maxAbsDiff).toBeGreaterThan(0); // int8 moves probabilities; an identical result would mean no quantization
    }
    const meta = JSON.parse(readFileSync(join(fx.dir, 'xlmt.json'), 'utf8')) as { info: { export: { quantization: string } } };
    expect(meta.info.export.quantization).toBe('int8-per-channel');
  });

  it('serves through the ONNX classifier', async () => {
    const classifier = await OnnxClassifier.load(fx.dir, { threads: 1 });
    const [p] = await classifier.classify(['great price'], ['topics']);
    await classifier.release();
    expect(p?.tasks['topics']).toHaveProperty('labels');
  });

  it('checks an fp32 export against the reference and names the check data it used', async () => {
    const out = join(fx.data.dir, 'fp32');
    const report = await exportModel(fx.run, out, { quantization: 'none', checkData: fx.data.train, checkSample: 50, threads: 1 });
    expect(report.check.data).toBe(fx.data.train);
    expect(report.check.examples).toBe(50);
    expect(report.opCounts['Attention']).toBe(1);
    expect(existsSync(join(out, 'onnx', 'model.onnx'))).toBe(true);
  });

  it('refuses an fp32 graph that does not match the reference, naming the task and the difference', async () => {
    const model = await loadModelDir(join(fx.run, 'best'));
    const { graph, params } = exportGraph(model, 'none');
    const bias = params.get('heads.sentiment.bias');
    if (!bias) throw new Error('the fused graph has no heads.sentiment.bias');
    const tampered = new Map(params);
    tampered.set(bias.name, { ...bias, data: bias.data.map((x, i) => x + (i === 0 ? 1 : 0)) });
    const bytes = serialize(graph, { params: tampered });
    const check = checkExport(model, bytes, { quantization: 'none', checkSample: 20, threads: 1, modelDir: join(fx.run, 'best') });
    await expect(check).rejects.toMatchObject({ code: 'EXPORT_CHECK_FAILED', where: { task: 'sentiment' } });
    await expect(check).rejects.toThrow(/^task "sentiment": the exported graph's probabilities differ from the reference graph's; nothing was written \(expected a largest \|Δp\| of at most 0.0001; received sentiment \d\.\d\de-\d\)/);
  });
});

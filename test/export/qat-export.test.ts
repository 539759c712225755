// xlmt export --int8 of a model trained with --qat: static int8 over the ranges the training learned, on the
// training's own int8 grid, weights per output channel, checked against the QAT model's own fake-quantized forward
// pass, which it computes up to float rounding; --static --calibration calibrates it afresh instead; a recorded
// range missing for a layer is refused with nothing written. The weights' grid is the training's (qat.weightBits,
// by default the one this CPU computes exactly), unless the serving CPU needs 7 bits where it trained on 8.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/index.ts';
import { chooseWeightBits, readCpuFlags } from '../../src/export/cpu-features.ts';
import { exportModel } from '../../src/export/export.ts';
import { qatWeightBits } from '../../src/export/qat-export.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let qatRun: string;
/** The weight grid this CPU's int8 kernels compute exactly, which the QAT run trains on by default. */
const BITS = chooseWeightBits(readCpuFlags()).bits;

beforeAll(async () => {
  data = await runFixture(60, 40);
  const fp32 = await trainedRun(data, { layers: 2, epochs: 3, lr: 3e-3 });
  qatRun = join(data.dir, 'qat');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, init: join(fp32, 'best'), out: qatRun, qat: 'ema',
    maxLength: 16, batchSize: 8, epochs: 2, lr: 1e-3, patience: 0, threads: 1, groupWindow: 0,
  }, 'test'), { log: () => {} });
}, 120_000);

const OPTIONS = { quantization: 'int8-per-tensor', checkSample: 40, threads: 1 } as const;

describe('int8 export of a QAT model', () => {
  it('is static over the learned ranges, per output channel, and close to the fake-quantized model', async () => {
    const out = join(data.dir, 'export-qat');
    const report = await exportModel(qatRun, out, { ...OPTIONS, checkData: data.dev });
    expect(report.quantization).toBe('int8-per-channel');
    expect(report.int8?.weights).toMatchObject({ bits: BITS, reason: `the ${BITS}-bit weight grid the quantization-aware training simulated` });
    const a = report.int8?.activations;
    if (a?.kind !== 'qat') throw new Error(`expected a QAT export, got ${a?.kind}`);
    expect(a.trained).toBe('ema');
    // Two layers of four quantized inputs each (the packed QKV, the attention output, the FFN's two).
    expect(a.layers).toHaveLength(8);
    const meta = JSON.parse(readFileSync(join(qatRun, 'best', 'xlmt.json'), 'utf8')) as { quantization: { inputRanges: Record<string, number> } };
    const qkv = a.layers.find((l) => l.layer === 'encoder.layer.1.attention.self.qkv');
    expect(qkv?.range).toEqual({ min: -(meta.quantization.inputRanges['encoder.layer.1.attention.self.query'] as number), max: meta.quantization.inputRanges['encoder.layer.1.attention.self.query'] });
    expect(report.opCounts['DynamicQuantizeLinear'] ?? 0).toBe(0);
    // With the word table int8 (auto here), which the training did not simulate, the two still nearly agree.
    for (const t of a.againstFakeQuantized) {
      expect(t.agreement, t.task).toBeGreaterThanOrEqual(0.95);
      expect(t.maxAbsDiff, t.task).toBeLessThan(0.05);
      expect(t.otherMacroF1, t.task).toBeDefined();
    }
    const written = JSON.parse(readFileSync(join(out, 'xlmt.json'), 'utf8')) as { info: { export: { quantization: string; int8: { activations: { kind: string } } } } };
    expect(written.info.export.quantization).toBe('int8-per-channel');
    expect(written.info.export.int8.activations.kind).toBe('qat');
    expect((await readSafetensors(join(qatRun, 'best', 'model.safetensors'))).tensors.size).toBeGreaterThan(0);
  }, 60_000);

  // Before the export used the training's grid (it spread [−R, R] over uint8's 255 steps, scale 2R/255), it was as
  // far from the fake-quantized forward pass as from fp32 on this model (largest |Δp| 1.5e-5 and 8.0e-6 against
  // 1.1e-5 and 6.7e-6); on the same grid, 6e-8 and 3e-8 (float rounding) against fp32's 1.2e-5 and 6.0e-6.
  it("computes what the training simulated: the training's grid, and the fake-quantized forward pass up to float rounding", async () => {
    const report = await exportModel(qatRun, join(data.dir, 'export-qat-fp32-table'), { ...OPTIONS, checkData: data.dev, int8Embeddings: 'off' });
    const a = report.int8?.activations;
    if (a?.kind !== 'qat') throw new Error(`expected a QAT export, got ${a?.kind}`);
    const meta = JSON.parse(readFileSync(join(qatRun, 'best', 'xlmt.json'), 'utf8')) as { quantization: { inputRanges: Record<string, number> } };
    for (const l of a.layers) {
      const r = meta.quantization.inputRanges[l.layer.replace(/\.attention\.self\.qkv$/, '.attention.self.query')] as number;
      expect(l, l.layer).toMatchObject({ scale: Math.fround(Math.fround(r) / 127), zeroPoint: 128 });
    }
    for (const t of a.againstFakeQuantized) {
      const fp32 = report.check.tasks.find((c) => c.task === t.task);
      expect(t.agreement, t.task).toBe(1);
      expect(t.maxAbsDiff, t.task).toBeLessThan((fp32?.maxAbsDiff ?? 0) / 10);
    }
  }, 60_000);

  it('calibrates afresh with --static --calibration, and prints the check against the fake-quantized model', async () => {
    const calibration = join(data.dir, 'calibration.txt');
    writeFileSync(calibration, `${readFileSync(data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text).join('\n')}\n`);
    const report = await exportModel(qatRun, join(data.dir, 'export-calibrated'), { ...OPTIONS, staticInt8: { calibration } });
    expect(report.int8?.activations.kind).toBe('static');
    expect(report.quantization).toBe('int8-per-tensor');

    const cli = runXlmt(['export', '--model', qatRun, '--out', join(data.dir, 'export-cli'), '--int8', '--threads', '1']);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('uint8 over the ranges quantization-aware training learned (\'ema\')');
    expect(cli.stdout).toMatch(/against the QAT model's own fake-quantized forward pass:\n\n\| task \| max/);
  }, 60_000);

  it('refuses a model whose recorded ranges lack a layer the export quantizes, writing nothing', async () => {
    const broken = join(data.dir, 'qat-broken');
    cpSync(join(qatRun, 'best'), broken, { recursive: true });
    const metaFile = join(broken, 'xlmt.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { quantization: { inputRanges: Record<string, number> } };
    delete meta.quantization.inputRanges['encoder.layer.1.intermediate.dense'];
    writeFileSync(metaFile, JSON.stringify(meta));
    const out = join(data.dir, 'export-broken');
    await expect(exportModel(broken, out, OPTIONS)).rejects.toMatchObject({
      code: 'NOT_A_MODEL', where: { file: `${broken}/xlmt.json`, field: 'quantization.inputRanges', tensor: 'encoder.layer.1.intermediate.dense' },
    });
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('serves the grid the training simulated, unless the CPU needs 7 bits where it trained on 8, and says so', async () => {
    const vnni = chooseWeightBits('avx2 avx512f avx512bw avx512_vnni');
    const avx2 = chooseWeightBits('avx2');
    const meta = JSON.parse(readFileSync(join(qatRun, 'best', 'xlmt.json'), 'utf8')) as { quantization: Parameters<typeof qatWeightBits>[0] };
    expect(meta.quantization.weightBits).toBe(BITS);
    const trained = (weightBits?: 7 | 8): Parameters<typeof qatWeightBits>[0] => {
      const { weightBits: _, ...rest } = meta.quantization;
      return weightBits === undefined ? rest : { ...rest, weightBits };
    };
    expect(qatWeightBits(trained(7), vnni)).toEqual({ bits: 7, reason: 'the 7-bit weight grid the quantization-aware training simulated', features: vnni.features });
    expect(qatWeightBits(trained(8), vnni).bits).toBe(8);
    expect(qatWeightBits(trained(), vnni).bits).toBe(8); // recorded before the field: 8 bits
    const off = qatWeightBits(trained(8), avx2);
    expect(off.bits).toBe(7);
    expect(off.reason).toBe(`${avx2.reason}; the quantization-aware training simulated 8-bit weights, so they are rounded afresh off its grid (train with qat.weightBits 7 to serve what the training simulated)`);
    expect(qatWeightBits(trained(8), chooseWeightBits(null, 7), 7).reason).toBe('--weight-bits 7, not the 8-bit grid the quantization-aware training simulated');
    expect(qatWeightBits(trained(7), chooseWeightBits(null, 7), 7).reason).toBe('--weight-bits 7');
    // The record's bits reach the export: a model trained on 7 bits is served on 7 bits by a CPU with VNNI too.
    const seven = join(data.dir, 'qat-seven');
    cpSync(join(qatRun, 'best'), seven, { recursive: true });
    writeFileSync(join(seven, 'xlmt.json'), JSON.stringify({ ...meta, quantization: trained(7) }));
    const report = await exportModel(seven, join(data.dir, 'export-seven'), { ...OPTIONS, checkData: data.dev, cpuFlags: 'avx2 avx512f avx512bw avx512_vnni' });
    expect(report.int8?.weights).toMatchObject({ bits: 7, maxCode: 63 });
  }, 60_000);
});

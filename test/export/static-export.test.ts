// `xlmt export --int8 --static --calibration FILE` on a tiny trained model: what it writes (fixed activation scales as
// initializers, no run-time range measurement), what it records in xlmt.json and prints, the CPU-chosen weight range,
// and every refusal of its flags, with nothing written.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand, exportReportText } from '../../src/cli/export.ts';
import { fromCommander } from '../../src/cli/report-error.ts';
import { exportModel, type ExportReport } from '../../src/export/export.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

const { onnx } = onnxProto;
const AVX2 = 'fpu sse2 avx avx2 fma';
const AVX512_VNNI = 'fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni';

let data: RunFixture;
let run: string;
let out: string;
let report: ExportReport;

beforeAll(async () => {
  data = await runFixture(120, 40);
  run = await trainedRun(data);
  out = join(data.dir, 'static');
  report = await exportModel(run, out, {
    quantization: 'int8-per-channel', checkSample: 40, threads: 1, cpuFlags: AVX2, int8Embeddings: 'off',
    staticInt8: { calibration: data.train, method: 'entropy', rows: 50 },
  });
}, 120_000);

function model(dir: string): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(readFileSync(join(dir, 'onnx', 'model.onnx')));
}

describe('a static int8 export', () => {
  it('quantizes activations with fixed scales: every QuantizeLinear reads initializers, and nothing measures ranges at run time', () => {
    const graph = model(out).graph as onnxProto.onnx.GraphProto;
    const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const ops = (graph.node ?? []).map((n) => n.opType);
    expect(ops).not.toContain('DynamicQuantizeLinear');
    expect(ops).not.toContain('DynamicQuantizeMatMul');
    expect(ops.filter((op) => op === 'MatMulIntegerToFloat')).toHaveLength(3); // one layer: attention output, intermediate, output
    expect(ops.filter((op) => op === 'QAttention')).toHaveLength(1);
    const quantizers = (graph.node ?? []).filter((n) => n.opType === 'QuantizeLinear');
    expect(quantizers).toHaveLength(4);
    for (const n of quantizers) {
      const [, scale = '', zeroPoint = ''] = n.input ?? [];
      expect(initializers.get(scale)?.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
      expect(initializers.get(zeroPoint)?.dataType).toBe(onnx.TensorProto.DataType.UINT8);
    }
  });

  it('uses the weight range chosen for the CPU: 7-bit codes on AVX2', () => {
    expect(report.int8?.weights).toMatchObject({ bits: 7, maxCode: 63, perChannel: true, reason: expect.stringMatching(/^AVX2 without VNNI/) });
    const graph = model(out).graph as onnxProto.onnx.GraphProto;
    const weights = (graph.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.INT8);
    expect(weights).toHaveLength(4);
    for (const w of weights) {
      const codes = new Int8Array((w.rawData as Uint8Array).buffer, (w.rawData as Uint8Array).byteOffset, (w.rawData as Uint8Array).byteLength);
      expect(codes.reduce((m, c) => Math.max(m, Math.abs(c)), 0)).toBe(63);
    }
  });

  it('records the method, the calibration file and its sha256, the rows and every layer\'s range in xlmt.json, as reported', () => {
    const meta = JSON.parse(readFileSync(join(out, 'xlmt.json'), 'utf8')) as { info: { export: { int8: unknown } } };
    expect(meta.info.export.int8).toEqual(JSON.parse(JSON.stringify(report.int8)));
    const a = report.int8?.activations;
    if (a?.kind !== 'static') throw new Error('expected static activations');
    expect(a.form).toBe('qoperator');
    expect(a.calibration).toMatchObject({
      file: data.train, sha256: createHash('sha256').update(readFileSync(data.train)).digest('hex'),
      rows: 50, available: 120, method: 'entropy', settings: { bins: 2048, levels: 128 },
    });
    expect(a.calibration.tokens).toBeGreaterThan(50);
    expect(a.layers.map((l) => l.layer)).toEqual(['attention.self.qkv', 'attention.output.dense', 'intermediate.dense', 'output.dense'].map((n) => `encoder.layer.0.${n}`));
    for (const l of a.layers) {
      expect(l.range.min).toBeLessThanOrEqual(0);
      expect(l.range.max).toBeGreaterThan(0);
      expect(l.scale).toBeCloseTo((l.range.max - l.range.min) / 255, 6);
    }
  });

  it('checks itself as every export does: decisions unchanged and the macro-F1 change on the run\'s dev file', () => {
    expect(report.check.data).toBe(data.dev);
    for (const t of report.check.tasks) {
      expect(t.agreement).toBeGreaterThan(0.8);
      expect(t.macroF1Change).toBeTypeOf('number');
      expect(Number.isFinite(t.maxAbsDiff)).toBe(true);
    }
  });

  it('prints what it did and why', () => {
    const text = exportReportText(report);
    expect(text).toContain('int8 weights: 7-bit codes −63…63 (AVX2 without VNNI');
    expect(text).toMatch(/int8 activations: static \(qoperator\), uint8 over fixed ranges of 4 layer inputs: entropy \(bins 2048, levels 128\) on 50 of 120 texts of .*train\.jsonl/);
  });

  it('a dynamic export records dynamic activations and, with VNNI, full 8-bit weights', async () => {
    const dynamic = await exportModel(run, join(data.dir, 'dynamic'), { quantization: 'int8-per-tensor', checkSample: 10, threads: 1, cpuFlags: AVX512_VNNI, int8Embeddings: 'off' });
    expect(dynamic.int8).toMatchObject({ weights: { bits: 8, maxCode: 127, perChannel: false }, activations: { kind: 'dynamic' } });
    expect(dynamic.opCounts.DynamicQuantizeMatMul).toBe(3);
    expect(dynamic.opCounts.QuantizeLinear).toBeUndefined();
  }, 60_000);
});

describe('weight scales from the command line', () => {
  it.each([[[], true], [['--per-channel'], true], [['--per-tensor'], false]])('--int8 %j: one scale per output column %s', async (args, perChannel) => {
    const target = join(data.dir, `scales-${perChannel}-${args.length}`);
    const log = console.log;
    console.log = () => {};
    try {
      await exportCommand().exitOverride().parseAsync(['--model', run, '--out', target, '--int8', '--int8-embeddings', 'off', '--check-sample', '10', '--threads', '1', ...args], { from: 'user' });
    } finally {
      console.log = log;
    }
    const { info } = JSON.parse(readFileSync(join(target, 'xlmt.json'), 'utf8')) as { info: { export: { quantization: string } } };
    expect(info.export.quantization).toBe(perChannel ? 'int8-per-channel' : 'int8-per-tensor');
  }, 60_000);
});

describe('refusals, with nothing written', () => {
  /** Runs `xlmt export` in process; the error it ends with, as the command line reports it. */
  async function refusal(args: readonly string[]): Promise<{ code: string; where?: Record<string, unknown>; message: string }> {
    const target = join(data.dir, 'refused');
    const before = readdirSync(run).sort();
    let error: unknown;
    try {
      await exportCommand().exitOverride().configureOutput({ outputError: () => {} }).parseAsync(['--model', run, '--out', target, ...args], { from: 'user' });
    } catch (e) {
      error = e instanceof CommanderError ? fromCommander(e) : e;
    }
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(data.dir).filter((n) => n.startsWith('refused'))).toEqual([]);
    expect(readdirSync(run).sort()).toEqual(before);
    if (error === undefined) throw new Error(`export ${args.join(' ')} was not refused`);
    return error as { code: string; where?: Record<string, unknown>; message: string };
  }

  it('--static without --calibration: MISSING_OPTION naming --calibration', async () => {
    expect(await refusal(['--int8', '--static'])).toMatchObject({ code: 'MISSING_OPTION', where: { field: '--calibration' } });
  });

  it.each([
    [['--int8', '--calibration', 'x.txt'], '--calibration'],
    [['--int8', '--method', 'entropy'], '--method'],
    [['--int8', '--calibration-rows', '10'], '--calibration-rows'],
    [['--static', '--calibration', 'x.txt'], '--static'],
    [['--weight-bits', '7'], '--weight-bits'],
    [['--per-tensor'], '--per-tensor'],
    [['--per-channel'], '--per-channel'],
    [['--int8', '--per-channel', '--per-tensor'], '--per-tensor'],
  ])('%j: BAD_OPTION naming %s', async (args, field) => {
    expect(await refusal(args)).toMatchObject({ code: 'BAD_OPTION', where: { field } });
  });

  it.each([['0'], ['-3'], ['1.5'], ['many']])('--calibration-rows %s: BAD_OPTION', async (rows) => {
    expect(await refusal(['--int8', '--static', '--calibration', data.train, '--calibration-rows', rows])).toMatchObject({ code: 'BAD_OPTION', where: { field: '--calibration-rows' } });
  });

  it('--method and --weight-bits outside their choices: BAD_OPTION', async () => {
    expect(await refusal(['--int8', '--static', '--calibration', data.train, '--method', 'kl'])).toMatchObject({ code: 'BAD_OPTION', where: { field: '--method' } });
    expect(await refusal(['--int8', '--weight-bits', '6'])).toMatchObject({ code: 'BAD_OPTION', where: { field: '--weight-bits' } });
  });

  it('an empty calibration file (or one of blank lines): CORPUS_EMPTY naming the file', async () => {
    for (const [name, text] of [['empty.jsonl', ''], ['blank.txt', '\n  \n\n']] as const) {
      const file = join(data.dir, name);
      writeFileSync(file, text);
      expect(await refusal(['--int8', '--static', '--calibration', file])).toMatchObject({ code: 'CORPUS_EMPTY', where: { file } });
    }
  });

  it('a calibration file that cannot be read: naming the file', async () => {
    const missing = join(data.dir, 'missing.jsonl');
    expect(await refusal(['--int8', '--static', '--calibration', missing])).toMatchObject({ code: 'FILE_NOT_FOUND', where: { file: missing } });
    const folder = join(data.dir, 'texts');
    mkdirSync(folder);
    expect(await refusal(['--int8', '--static', '--calibration', folder])).toMatchObject({ code: 'IO_FAILED', where: { file: folder } });
  });

  it('the API refuses static settings on an fp32 export and a bad number of rows', async () => {
    const target = join(data.dir, 'refused');
    await expect(exportModel(run, target, { quantization: 'none', checkSample: 10, threads: 1, staticInt8: { calibration: data.train } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', where: { field: 'staticInt8' } });
    await expect(exportModel(run, target, { quantization: 'int8-per-tensor', checkSample: 10, threads: 1, staticInt8: { calibration: data.train, rows: 0 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', where: { field: 'staticInt8.rows' } });
    expect(existsSync(target)).toBe(false);
  });
});

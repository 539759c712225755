// `xlmt export --int8 --int8-embeddings auto|on|off` on a tiny trained model: the policy, what each mode writes (the
// int8 table as an int8 initializer, a smaller file), the report of the table's own effect, and that the export
// loads in the classifier that `predict` and `serve` use.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportModel, type ExportReport } from '../../src/export/export.ts';
import { keepInt8Table, tableCost, tableZ, TABLE_MAX_NET_LOSS } from '../../src/export/int8-embeddings.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { predictFile } from '../../src/predict/run.ts';
import { buildApp } from '../../src/serve/app.ts';
import { onnxModelLoader } from '../../src/serve/model-loader.ts';
import { runXlmt } from '../helpers/cli.ts';
import { exportedModel, type ExportedFixture } from '../infer/exported-model.ts';

const { onnx } = onnxProto;
const WORD = 'embeddings.word_embeddings.weight';

let fx: ExportedFixture;
let on: { dir: string; report: ExportReport };
let off: { dir: string; report: ExportReport };
beforeAll(async () => {
  fx = await exportedModel({ quantization: 'int8-per-channel' }); // the default mode: auto
  const exportAs = async (mode: 'on' | 'off'): Promise<{ dir: string; report: ExportReport }> => {
    const dir = join(fx.data.dir, `export-${mode}`);
    return { dir, report: await exportModel(fx.run, dir, { quantization: 'int8-per-channel', int8Embeddings: mode, checkSample: 100, threads: 1 }) };
  };
  on = await exportAs('on');
  off = await exportAs('off');
}, 120_000);

function initializers(dir: string): Map<string, number> {
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'onnx', 'model.onnx')));
  return new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t.dataType ?? 0]));
}

describe('keepInt8Table', () => {
  // [lost, gained, texts] per task: the fp32 model's decisions the int8 table loses and gains against the fp32 table.
  const effect = (counts: readonly (readonly [number, number, number])[]) =>
    counts.map(([lost, gained, texts], i) => ({ task: `t${i}`, maxAbsDiff: 0.01, agreement: 0.9, lost, gained, texts }));

  it(`refuses the table only for a net loss above ${TABLE_MAX_NET_LOSS * 100}% of the texts that is significant`, () => {
    // net 15 of 500 (3%), z = 15 / √25 = 3: refused
    expect(tableCost({ lost: 20, gained: 5, texts: 500 })).toEqual({ netLoss: 0.03, z: 3, refuses: true });
    // net 6 of 500 (1.2%) but z = 6 / √14 ≈ 1.60: noise, kept
    expect(tableCost({ lost: 10, gained: 4, texts: 500 }).refuses).toBe(false);
    // net 6 of 500 with fewer discordant texts, z = 6 / √8 ≈ 2.12: refused
    expect(tableCost({ lost: 7, gained: 1, texts: 500 }).refuses).toBe(true);
    // net 20 of 5000 (0.4%), z = 20 / √100 = 2: significant but small, kept
    expect(tableCost({ lost: 60, gained: 40, texts: 5000 })).toEqual({ netLoss: 0.004, z: 2, refuses: false });
    // a gain, and no texts at all, never refuse
    expect(tableCost({ lost: 1, gained: 30, texts: 100 }).refuses).toBe(false);
    expect(tableCost({ lost: 0, gained: 0, texts: 0 })).toEqual({ netLoss: 0, z: 0, refuses: false });
  });

  it('shares the 5% among the tasks: the bar on z rises with their number (Bonferroni)', () => {
    expect(tableZ(1)).toBeCloseTo(1.6449, 4);
    expect(tableZ(2)).toBeCloseTo(1.96, 4);
    expect(tableZ(3)).toBeCloseTo(2.1280, 4);
    // z ≈ 2.12: refused by one or two tasks' bar, kept under three tasks' bar
    const e = { lost: 7, gained: 1, texts: 500 };
    expect([1, 2, 3].map((tasks) => tableCost(e, tasks).refuses)).toEqual([true, true, false]);
  });

  it('auto keeps the table unless some task refuses it, naming those that do with their counts', () => {
    expect(keepInt8Table('auto', effect([[10, 4, 500], [60, 40, 5000]])).keep).toBe(true);
    expect(keepInt8Table('auto', effect([[7, 1, 500]])).keep).toBe(false);
    expect(keepInt8Table('auto', effect([[7, 1, 500], [0, 0, 500], [0, 0, 500]])).keep).toBe(true);
    const refused = keepInt8Table('auto', effect([[10, 4, 500], [20, 5, 500]]));
    expect(refused.keep).toBe(false);
    expect(refused.reason).toBe("auto: the int8 table costs more than 1% of the fp32 model's decisions, significantly (t1: 20 lost, 5 gained of 500 texts, z 3.00), so the table stays fp32");
  });

  it('on keeps it whatever the check says', () => {
    expect(keepInt8Table('on', effect([[400, 0, 500]]))).toEqual({ keep: true, reason: '--int8-embeddings on' });
  });
});

describe('--int8-embeddings', () => {
  it('auto (the default) checks the table apart and keeps it exactly when the policy does', () => {
    const w = fx.report.wordEmbeddings;
    expect(w?.mode).toBe('auto');
    expect(w?.effect?.map((e) => e.task)).toEqual(['sentiment', 'topics']);
    for (const e of w?.effect ?? []) expect(e.macroF1Change).toBeTypeOf('number'); // the run's dev file is labeled
    expect(w?.int8).toBe(keepInt8Table('auto', w?.effect ?? []).keep);
    expect(fx.report.bytes).toBe(w?.int8 ? w.bytesInt8Table : w?.bytesFp32Table);
  });

  it('on writes the word table as an int8 initializer with per-row scales, and a smaller file', () => {
    const w = on.report.wordEmbeddings;
    expect(w).toMatchObject({ mode: 'on', int8: true, reason: '--int8-embeddings on' });
    const types = initializers(on.dir);
    expect(types.get(`${WORD}_quantized`)).toBe(onnx.TensorProto.DataType.INT8);
    expect(types.get(`${WORD}_scale`)).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(types.has(WORD)).toBe(false);
    expect(on.report.opCounts['EmbedLayerNormalization']).toBeUndefined();
    // The file written is the one measured, and the table's 3 bytes per value less, give or take its scales and nodes.
    const table = 120 * 32; // the fixture's vocabulary × hidden size
    expect(statSync(join(on.dir, 'onnx', 'model.onnx')).size).toBe(w?.bytesInt8Table);
    expect((w?.bytesFp32Table ?? 0) - (w?.bytesInt8Table ?? 0)).toBeGreaterThan(3 * table - 4 * 120 - 2000);
    // Its check is the int8-table graph's against the reference; the table's own effect is reported per task.
    expect(on.report.check.tasks.map((t) => t.task)).toEqual(['sentiment', 'topics']);
    for (const e of w?.effect ?? []) {
      expect(e.agreement).toBeGreaterThan(0.8);
      expect(e.maxAbsDiff).toBeGreaterThan(0); // an int8 table that moved nothing would not be int8
      expect(e.maxAbsDiff).toBeLessThan(0.1);
    }
    const meta = JSON.parse(readFileSync(join(on.dir, 'xlmt.json'), 'utf8')) as { info: { export: { wordEmbeddings: { int8: boolean } } } };
    expect(meta.info.export.wordEmbeddings.int8).toBe(true);
  });

  it("counts the fp32 model's decisions the table loses and gains, as the two checks' agreements differ", () => {
    // off checked the fp32-table graph, on the int8-table graph, on the same sample: the net of the paired counts is
    // exactly the difference of their agreements with the reference, and the discordant texts are among those the
    // two tables decide differently.
    for (const e of on.report.wordEmbeddings?.effect ?? []) {
      const fp32Table = off.report.check.tasks.find((t) => t.task === e.task)?.agreement as number;
      const int8Table = on.report.check.tasks.find((t) => t.task === e.task)?.agreement as number;
      expect(e.texts).toBe(on.report.check.examples);
      expect((e.lost - e.gained) / e.texts).toBeCloseTo(fp32Table - int8Table, 12);
      expect(e.lost + e.gained).toBeLessThanOrEqual(Math.round((1 - e.agreement) * e.texts));
    }
  });

  it('off keeps the fp32 table in EmbedLayerNormalization and checks one graph', () => {
    expect(off.report.wordEmbeddings).toMatchObject({ mode: 'off', int8: false, reason: '--int8-embeddings off', bytesInt8Table: null, effect: null });
    expect(off.report.opCounts['EmbedLayerNormalization']).toBe(1);
    expect(initializers(off.dir).get(WORD)).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(off.report.bytes).toBe(on.report.wordEmbeddings?.bytesFp32Table);
  });

  it('refuses an int8 table for an fp32 export, from the API and the command line, writing nothing', async () => {
    const out = join(fx.data.dir, 'fp32-on');
    await expect(exportModel(fx.run, out, { quantization: 'none', int8Embeddings: 'on', checkSample: 10, threads: 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', where: { field: 'int8Embeddings' } });
    const cli = runXlmt(['export', '--model', fx.run, '--out', out, '--int8-embeddings', 'off']);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toContain('--int8-embeddings');
    expect(cli.stderr).toContain('BAD_OPTION');
    expect(() => statSync(out)).toThrow();
  });
});

describe('an export with an int8 word table', () => {
  it('classifies through OnnxClassifier as the fp32-table export does, up to the table\'s rounding', async () => {
    const texts = readFileSync(fx.data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
    const [withInt8, withFp32] = await Promise.all([OnnxClassifier.load(on.dir, { threads: 1 }), OnnxClassifier.load(off.dir, { threads: 1 })]);
    const a = await withInt8.classify(texts);
    const b = await withFp32.classify(texts);
    await withInt8.release();
    await withFp32.release();
    expect(a).toHaveLength(texts.length);
    let worst = 0;
    a.forEach((p, i) => {
      for (const task of ['sentiment', 'topics']) {
        const pa = Object.values(p.tasks[task]?.scores ?? {});
        const pb = Object.values(b[i]?.tasks[task]?.scores ?? {});
        expect(pa).toHaveLength(2);
        pa.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - (pb[j] as number)))));
      }
    });
    expect(worst).toBeLessThan(0.1);
  });

  it('scores a file with predict and answers /v1/classify with serve', async () => {
    const classifier = await OnnxClassifier.load(on.dir, { threads: 1 });
    const output = join(fx.data.dir, 'predictions.jsonl');
    const summary = await predictFile(classifier, { model: on.dir, input: fx.data.dev, output, modelDir: on.dir });
    await classifier.release();
    expect(summary.rowsWritten).toBe(40);
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(40);
    const service = await buildApp({
      dir: on.dir,
      loadModel: onnxModelLoader({ threads: 1, batchSize: 4 }),
      limits: { maxTexts: 8, maxChars: 2000, onLongText: 'truncate', bodyLimit: 1 << 20 },
      batching: { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 16 },
    });
    try {
      await service.start();
      const response = await service.app.inject({ method: 'POST', url: '/v1/classify', payload: { texts: ['great price', 'rude staff'] } });
      expect(response.statusCode).toBe(200);
      expect((response.json() as { results: unknown[] }).results).toHaveLength(2);
    } finally {
      await service.app.close();
    }
  });
});

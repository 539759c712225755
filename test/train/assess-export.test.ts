// xlmt eval on an export: the export's own graph scored on a labeled file, per task and language, as the model
// it was exported from scores (an fp32 export decides as its model does); --reference may be an export too.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportModel } from '../../src/export/export.ts';
import { evaluateModel } from '../../src/train/assess.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from './fixtures.ts';

let data: RunFixture;
let run: string;
let fp32: string;
let int8: string;

beforeAll(async () => {
  data = await runFixture(60, 30);
  run = await trainedRun(data, { layers: 1, epochs: 2, lr: 3e-3 });
  fp32 = join(data.dir, 'export-fp32');
  int8 = join(data.dir, 'export-int8');
  await exportModel(run, fp32, { quantization: 'none', checkSample: 10, threads: 1 });
  await exportModel(run, int8, { quantization: 'int8-per-channel', checkSample: 10, threads: 1 });
}, 120_000);

describe('evaluating an export', () => {
  it('scores an fp32 export per task and language as its model scores', async () => {
    const model = await evaluateModel(run, data.dev, 1);
    const exported = await evaluateModel(fp32, data.dev, 1);
    expect(exported.model).toBe(fp32);
    expect(exported.reports.map((r) => r.task)).toEqual(model.reports.map((r) => r.task));
    for (const [i, r] of exported.reports.entries()) {
      const m = model.reports[i];
      expect(r.n, r.task).toBe(m?.n);
      expect(r.macroF1, r.task).toBeCloseTo(m?.macroF1 ?? Number.NaN, 6);
      expect(r.perLanguage.map((l) => [l.lang, l.n]), r.task).toEqual(m?.perLanguage.map((l) => [l.lang, l.n]));
    }
  });

  it('takes an int8 export from the command line, against its model as the reference', () => {
    const result = runXlmt(['eval', '--model', int8, '--reference', run, '--data', data.dev, '--threads', '1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`## ${int8}: mean macro-F1`);
    expect(result.stdout).toMatch(/% below the reference \(negative: above\)/);
  }, 60_000);
});

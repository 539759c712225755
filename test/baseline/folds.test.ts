// Out-of-fold baselines (--folds K): fold k's model is exactly a baseline fitted on the training rows whose text
// is not in fold k; saved and loaded with the full model; as a teacher, each text is scored by its fold's model.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../src/baseline/features.ts';
import { foldOf } from '../../src/baseline/folds.ts';
import { loadBaseline } from '../../src/baseline/model-dir.ts';
import type { BaselineModel } from '../../src/baseline/model.ts';
import { evaluateBaseline, trainBaseline, type BaselineTrainResult } from '../../src/baseline/train.ts';
import { loadDataset } from '../../src/data/index.ts';
import { evaluateDataset } from '../../src/train/evaluate.ts';
import { loadOnlineTeacher } from '../../src/compress/distill/teacher.ts';
import { runXlmt } from '../helpers/cli.ts';
import { baselineFixture, type BaselineFixture } from './fixtures.ts';

const SETTINGS = { features: { ...DEFAULT_FEATURES, buckets: 2 ** 14 }, fit: { c: 10, iterations: 60 } };
const FOLDS = 3;

let fx: BaselineFixture;
let folded: string;
let plain: string;
let texts: string[];
let result: BaselineTrainResult;

beforeAll(async () => {
  fx = baselineFixture();
  folded = join(fx.dir, 'folded');
  plain = join(fx.dir, 'plain');
  result = await trainBaseline({ train: fx.train, dev: fx.dev, tasks: fx.tasks, out: folded, settings: SETTINGS, folds: FOLDS });
  await trainBaseline({ train: fx.train, dev: fx.dev, tasks: fx.tasks, out: plain, settings: SETTINGS });
  texts = readFileSync(fx.train, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
}, 60_000);

function heads(model: BaselineModel): unknown[] {
  return model.tasks.map((t) => [t.task.name, Array.from(t.head.vocab.buckets), Array.from(t.head.vocab.idf), Array.from(t.head.weights), Array.from(t.head.bias)]);
}

describe('out-of-fold baselines', () => {
  it('fits fold k exactly as a baseline of the rows outside fold k, beside an unchanged full model', async () => {
    const { model, folds } = await loadBaseline(folded);
    expect(folds).toHaveLength(FOLDS);
    expect(heads(model)).toEqual(heads((await loadBaseline(plain)).model));
    const lines = readFileSync(fx.train, 'utf8').trim().split('\n');
    for (let k = 0; k < FOLDS; k++) {
      const outside = join(fx.dir, `outside-${k}.jsonl`);
      writeFileSync(outside, `${lines.filter((l) => foldOf((JSON.parse(l) as { text: string }).text, FOLDS) !== k).join('\n')}\n`);
      const alone = join(fx.dir, `alone-${k}`);
      await trainBaseline({ train: outside, tasks: fx.tasks, out: alone, settings: SETTINGS });
      expect(heads(folds[k] as BaselineModel), `fold ${k + 1}`).toEqual(heads((await loadBaseline(alone)).model));
    }
  });

  it('teaches each text with its fold\'s model, keyed apart from the baseline without folds', async () => {
    const teacher = await loadOnlineTeacher(folded);
    const { folds } = await loadBaseline(folded);
    const logits = await teacher.logits(texts);
    for (const task of teacher.tasks) {
      const k = task.labels.length;
      const got = logits.get(task.name) as Float32Array;
      texts.forEach((text, i) => {
        const own = folds[foldOf(text, FOLDS)] as BaselineModel;
        expect(Array.from(got.subarray(i * k, (i + 1) * k))).toEqual(Array.from(own.logits(own.counts([text]), task.name)));
      });
    }
    expect(teacher.fingerprint).not.toBe((await loadOnlineTeacher(plain)).fingerprint);
  });

  it('reports the cross-validated quality: every training row scored by its fold\'s model, at the dev thresholds', async () => {
    const { model, folds, info } = await loadBaseline(folded);
    const train = await loadDataset(fx.train, { schema: model.schema });
    const thresholds = Object.fromEntries(model.tasks.flatMap((t) => (t.thresholds ? [[t.task.name, [...t.thresholds]]] : [])));
    // Naive reference: one text at a time, through the model of its fold.
    const reference = await evaluateDataset(async (indices) => new Map(model.schema.tasks.map((task) => {
      const k = task.labels.length;
      const probs = new Float32Array(indices.length * k);
      indices.forEach((example, row) => {
        const text = train.examples[example]!.text;
        const own = folds[foldOf(text, FOLDS)] as BaselineModel;
        probs.set(own.score(own.counts([text]), task.name), row * k);
      });
      return [task.name, probs];
    })), train, model.schema.tasks, { tune: false, thresholds, tunedOn: null });
    const outOfFold = result.outOfFold;
    expect(outOfFold).not.toBeNull();
    expect(outOfFold?.summary).toEqual(reference.summary);
    expect(info.outOfFoldMacroF1).toEqual(Object.fromEntries(reference.summary.tasks.map((t) => [t.task, t.macroF1])));
    // The full model has seen these rows; the fold models have not.
    const inSample = await evaluateBaseline(model, train, 'model');
    expect(outOfFold!.summary.meanMacroF1).toBeLessThan(inSample.summary.meanMacroF1);
    expect((await trainBaseline({ train: fx.train, tasks: fx.tasks, out: join(fx.dir, 'plain-again'), settings: SETTINGS })).outOfFold).toBeNull();
  });

  it('evaluates any file out of fold from the CLI, and refuses it for a baseline without folds', () => {
    const run = runXlmt(['baseline', 'eval', '--model', folded, '--data', fx.train, '--out-of-fold', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout) as { models: { summary: { meanMacroF1: number } }[] };
    expect(printed.models[0]?.summary.meanMacroF1).toBeCloseTo(result.outOfFold!.summary.meanMacroF1, 10);
    const refused = runXlmt(['baseline', 'eval', '--model', plain, '--data', fx.train, '--out-of-fold']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--out-of-fold');
    expect(refused.stderr).toContain('no out-of-fold models');
    const trained = runXlmt(['baseline', 'train', '--train', fx.train, '--dev', fx.dev, '--tasks', fx.tasks, '--out', join(fx.dir, 'cli-folds'), '--folds', '2', '--quiet']);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/out of fold on .* \(2 folds, each row scored by the model not fitted on it\): mean macro-F1 \d/);
  });

  it('refuses fewer than two folds, naming the flag, and writes nothing', () => {
    const out = join(fx.dir, 'never');
    const run = runXlmt(['baseline', 'train', '--train', fx.train, '--tasks', fx.tasks, '--out', out, '--folds', '1']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('--folds');
    expect(() => readFileSync(join(out, 'baseline.json'))).toThrow();
  });
});

// Train → save → load → evaluate → predict on a small synthetic dataset: high macro-F1, the same evaluation
// after loading, and prediction files in `xlmt predict`'s layout that `xlmt train --teacher` reads.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../src/baseline/features.ts';
import { loadBaseline } from '../../src/baseline/model-dir.ts';
import type { BaselineModel } from '../../src/baseline/model.ts';
import { predictBaselineFile } from '../../src/baseline/predict-file.ts';
import { evaluateBaseline, trainBaseline, type BaselineTrainResult } from '../../src/baseline/train.ts';
import { loadDataset } from '../../src/data/index.ts';
import { recordedFingerprint, type DatasetEvaluation } from '../../src/train/evaluate.ts';
import { loadTeacher } from '../../src/train/teacher.ts';
import { baselineFixture, type BaselineFixture } from './fixtures.ts';

interface PredictedRow {
  id: string;
  line: number;
  text?: string;
  lang?: string;
  labels?: unknown;
  tasks: Record<string, { label?: string; labels?: string[]; scores: Record<string, number> }>;
  truncated: boolean;
}

const readRows = (file: string): PredictedRow[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PredictedRow);

let fx: BaselineFixture;
let out: string;
let trained: BaselineTrainResult;
let model: BaselineModel;
beforeAll(async () => {
  fx = baselineFixture();
  out = join(fx.dir, 'model');
  trained = await trainBaseline({ train: fx.train, dev: fx.dev, tasks: fx.tasks, out, settings: { features: DEFAULT_FEATURES, fit: { c: 10, iterations: 100 } } });
  model = (await loadBaseline(out)).model;
});

describe('baseline train → save → load', () => {
  it('fits every task well on dev, per task and per language', () => {
    const evaluation = trained.evaluation!;
    expect(evaluation.reports.map((r) => r.task)).toEqual(['sentiment', 'topics']);
    for (const r of evaluation.reports) {
      expect(r.macroF1, r.task).toBeGreaterThan(0.9);
      expect(r.perLanguage.map((l) => l.lang)).toEqual(['de', 'en', 'ru']);
      for (const l of r.perLanguage) expect(l.macroF1, `${r.task} ${l.lang}`).toBeGreaterThan(0.8);
    }
    expect(trained.model.tasks.map((t) => t.report.stop)).not.toContain('line-search');
  });

  it('loads the model it saved: the same settings, thresholds and dev evaluation', async () => {
    expect(model.settings).toEqual(trained.model.settings);
    expect(model.taskInfo).toEqual(trained.model.taskInfo);
    expect(model.taskInfo[1]?.thresholds).toEqual(trained.evaluation!.thresholds['topics']);
    const dev = await loadDataset(fx.dev, { schema: model.schema });
    const { info } = await loadBaseline(out);
    const again = await evaluateBaseline(model, dev, 'model', recordedFingerprint(info));
    // The same figures; only the thresholds' source differs: tuned there, stored now, and both on this dev file.
    const figures = (e: DatasetEvaluation) => ({ ...e, reports: e.reports.map((r) => ({ ...r, thresholdSource: null })) });
    expect(figures(again)).toEqual(figures(trained.evaluation!));
    expect(trained.evaluation!.reports.map((r) => r.thresholdSource)).toEqual([null, { kind: 'tuned', tunedOn: fx.dev, optimistic: true }]);
    expect(again.reports.map((r) => r.thresholdSource)).toEqual([null, { kind: 'given', tunedOn: fx.dev, optimistic: true }]);
  });
});

describe('baseline predictions', () => {
  it("scores every row in xlmt predict's layout, agreeing with gold, and loads as a teacher", async () => {
    const output = join(fx.dir, 'dev.predictions.jsonl');
    const summary = await predictBaselineFile(model, { input: fx.dev, output, keep: ['text', 'lang'] });
    const gold = readRows(fx.dev) as unknown as { id: string; text: string; lang: string; labels: { sentiment?: string; topics?: string[] } }[];
    expect(summary).toMatchObject({ rowsRead: gold.length, rowsWritten: gold.length, rowsFullyLabeled: 0, predictions: { sentiment: gold.length, topics: gold.length } });
    const rows = readRows(output);
    expect(rows.map((r) => [r.id, r.line, r.text, r.lang, r.truncated])).toEqual(gold.map((g, i) => [g.id, i + 1, g.text, g.lang, false]));
    let agree = 0;
    let labeled = 0;
    rows.forEach((r, i) => {
      const g = gold[i]!.labels;
      if (g.sentiment === undefined) return;
      labeled += 1;
      if (r.tasks['sentiment']?.label === g.sentiment) agree += 1;
    });
    expect(agree / labeled).toBeGreaterThan(0.9);
    const first = rows[0]!.tasks;
    expect(Object.keys(first['sentiment']!.scores)).toEqual(['negative', 'neutral', 'positive']);
    expect(Object.values(first['sentiment']!.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(first['topics']).toEqual({ labels: expect.any(Array), scores: { price: expect.any(Number), staff: expect.any(Number) } });
    const teacher = await loadTeacher(output, model.schema);
    expect(teacher.length).toBe(gold.length);
    expect([...teacher[0]!.soft.keys()]).toEqual(['sentiment', 'topics']);
  });

  it('with skipLabeled, predicts only the tasks a row lacks and leaves out rows labeled for all of them', async () => {
    const output = join(fx.dir, 'train.teacher.jsonl');
    const summary = await predictBaselineFile(model, { input: fx.train, output, keep: ['text', 'lang'], skipLabeled: true });
    const gold = readRows(fx.train) as unknown as { id: string; labels: Record<string, unknown> }[];
    const missing = gold.map((g) => ['sentiment', 'topics'].filter((t) => !(t in g.labels))).map((tasks, i) => ({ id: gold[i]!.id, tasks })).filter((r) => r.tasks.length > 0);
    expect(missing.length).toBeGreaterThan(0);
    expect(summary.rowsFullyLabeled).toBe(gold.length - missing.length);
    const rows = readRows(output);
    expect(rows.map((r) => ({ id: r.id, tasks: Object.keys(r.tasks) }))).toEqual(missing);
    expect(rows.every((r) => !('labels' in r))).toBe(true); // read to find labels, not copied
    const teacher = await loadTeacher(output, model.schema);
    expect(teacher.length).toBe(missing.length);
  });

  it('reads CSV, labels in columns named as the tasks, an empty cell meaning unlabeled', async () => {
    const input = join(fx.dir, 'some.csv');
    writeFileSync(input, 'id,text,lang,sentiment,topics\na,great service today,en,,\nb,awful price,en,negative,\nc,"toll, prima leute",de,positive,staff\nd,"okay people, price",en,,[]\n');
    const output = join(fx.dir, 'some.predictions.jsonl');
    const summary = await predictBaselineFile(model, { input, output, skipLabeled: true, tasks: ['topics', 'sentiment'] });
    expect(summary).toMatchObject({ rowsRead: 4, rowsWritten: 3, rowsFullyLabeled: 1, predictions: { sentiment: 2, topics: 2 } });
    const rows = readRows(output);
    expect(rows.map((r) => [r.id, r.lang, Object.keys(r.tasks)])).toEqual([['a', 'en', ['topics', 'sentiment']], ['b', 'en', ['topics']], ['d', 'en', ['sentiment']]]);
    expect(rows[0]?.tasks['sentiment']?.label).toBe('positive');
    expect(rows[1]?.tasks['topics']?.labels).toEqual(['price']);
  });

  it('writes CSV in the layout of xlmt predict', async () => {
    const output = join(fx.dir, 'dev.predictions.csv');
    await predictBaselineFile(model, { input: fx.dev, output, tasks: ['sentiment'] });
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,line,lang,sentiment,sentiment.negative,sentiment.neutral,sentiment.positive,truncated');
    expect(lines.length).toBe(readRows(fx.dev).length + 1);
  });
});

// The exported model's runtime: predictions in input order, length bucketing invisible to results, task
// selection, truncation flags, and agreement with the training graph's predictor on the dev file.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { UnknownTaskError } from '../../src/infer/types.ts';
import { evaluateModel } from '../../src/train/assess.ts';
import { exportedModel, type ExportedFixture } from './exported-model.ts';

let fx: ExportedFixture;
let classifier: OnnxClassifier;
beforeAll(async () => {
  fx = await exportedModel();
  classifier = await OnnxClassifier.load(fx.dir, { threads: 1, batchSize: 4 });
}, 60_000);

const devTexts = (): string[] => readFileSync(fx.data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);

describe('OnnxClassifier', () => {
  it('loads the export with its tasks and thresholds', () => {
    expect(classifier.tasks.map((t) => t.name)).toEqual(['sentiment', 'topics']);
    expect(classifier.tasks[1]?.thresholds).toHaveLength(2);
    expect(fx.report.check.tolerance).not.toBeNull();
    for (const t of fx.report.check.tasks) expect(t.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('answers every text in order, whatever the batching', async () => {
    const texts = devTexts();
    const one = await OnnxClassifier.load(fx.dir, { threads: 1, batchSize: 1 });
    const batched = await classifier.classify(texts);
    const single = await one.classify(texts);
    await one.release();
    expect(batched).toHaveLength(texts.length);
    batched.forEach((p, i) => {
      const s = single[i]?.tasks['sentiment'];
      const b = p.tasks['sentiment'];
      expect(b && 'label' in b && s && 'label' in s && b.label === s.label).toBe(true);
      for (const [label, score] of Object.entries(b?.scores ?? {})) expect(score).toBeCloseTo(s?.scores[label] ?? NaN, 5);
    });
  });

  it('reaches the macro-F1 the training graph reports on dev', async () => {
    const texts = devTexts();
    const gold = readFileSync(fx.data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { labels: Record<string, unknown> }).labels);
    const predictions = await classifier.classify(texts, ['sentiment']);
    const evaluation = await evaluateModel(fx.run, fx.data.dev, 1);
    const sentiment = evaluation.reports.find((r) => r.task === 'sentiment');
    let correct = 0;
    let total = 0;
    predictions.forEach((p, i) => {
      const g = gold[i]?.['sentiment'];
      if (g === undefined) return;
      total++;
      const s = p.tasks['sentiment'];
      if (s && 'label' in s && s.label === g) correct++;
    });
    expect(Object.keys(predictions[0]?.tasks ?? {})).toEqual(['sentiment']);
    const confusion = sentiment?.confusion?.counts ?? [];
    const trainingCorrect = confusion.reduce((sum, row, i) => sum + (row[i] ?? 0), 0);
    expect(correct).toBe(trainingCorrect);
    expect(total).toBe(sentiment?.n);
  });

  it('names an unknown task', async () => {
    await expect(classifier.classify(['x'], ['sentiment', 'nope'])).rejects.toThrow(UnknownTaskError);
    await expect(classifier.classify(['x'], ['topic'])).rejects.toMatchObject({
      code: 'UNKNOWN_TASK',
      message: 'unknown task "topic" (expected one of "sentiment", "topics"). Did you mean "topics"?',
      details: { task: 'topic', known: ['sentiment', 'topics'] },
    });
  });

  it('flags texts cut to the maximum length and answers an empty list', async () => {
    const long = Array.from({ length: 40 }, () => 'great').join(' ');
    const [cut, short] = await classifier.classify([long, 'great']);
    expect(cut?.truncated).toBe(true);
    expect(short?.truncated).toBe(false);
    expect(await classifier.classify([])).toEqual([]);
  });
});

// Task reports: overall, per-label and per-language metrics, confusion with names, thresholds, multi-task summary.
import { describe, expect, it } from 'vitest';
import { evaluateTask, summarizeTasks, type TaskReport } from '../../src/eval/index.ts';
import { emotion, emotionPredictions, sentiment, sentimentPredictions } from './fixtures.ts';

describe('evaluateTask: multiclass', () => {
  const report = evaluateTask(sentiment, sentimentPredictions);

  it('reports overall metrics (sklearn: macro 0.785185, micro = accuracy = 0.8)', () => {
    expect(report.task).toBe('sentiment');
    expect(report.type).toBe('multiclass');
    expect(report.n).toBe(10);
    expect(report.macroF1).toBeCloseTo(0.7851851851851851, 12);
    expect(report.labels).toBe(3);
    expect(report.microF1).toBeCloseTo(0.8, 12);
    expect(report.accuracy).toBe(0.8);
    expect(report.thresholds).toBeNull();
  });

  it('names the confusion matrix rows (gold) and columns (predicted), the argmax tie going to the lower index', () => {
    expect(report.confusion).toEqual({
      labels: ['neg', 'neu', 'pos'],
      counts: [
        [4, 1, 0],
        [0, 2, 0],
        [0, 1, 2],
      ],
    });
  });

  it('names per-label scores', () => {
    expect(report.perLabel.map((l) => [l.label, l.precision, l.recall, l.support])).toEqual([
      ['neg', 1, 0.8, 5],
      ['neu', 0.5, 1, 2],
      ['pos', 1, 2 / 3, 3],
    ]);
  });

  it('scores each language on its own examples, sorted by code', () => {
    // de: F1 neg 1, neu 0 (predicted, never gold), pos 0.8 → 0.6. en: pos is absent → (0.8 + 0.8) / 2.
    expect(report.perLanguage).toEqual([
      { lang: 'de', n: 5, macroF1: expect.closeTo(0.6, 12), labels: 3 },
      { lang: 'en', n: 5, macroF1: 0.8, labels: 2 },
    ]);
  });
});

describe('evaluateTask: multilabel', () => {
  it('cuts at 0.5 by default (sklearn: F1 0.8 0.8 0, micro 8/11, exact match 4/6)', () => {
    const report = evaluateTask(emotion, emotionPredictions);
    expect(report.thresholds).toEqual([0.5, 0.5, 0.5]);
    expect(report.confusion).toBeNull();
    expect(report.perLabel).toEqual([
      { label: 'joy', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 },
      { label: 'anger', precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
      { label: 'fear', precision: 0, recall: 0, f1: 0, support: 0 },
    ]);
    expect(report.macroF1).toBeCloseTo(1.6 / 3, 12);
    expect(report.microF1).toBeCloseTo(8 / 11, 12);
    expect(report.accuracy).toBeCloseTo(4 / 6, 12);
    // en: joy 2/3, anger 1, fear 0 (predicted once) → 5/9. fr: fear never gold nor predicted → (1 + 2/3) / 2.
    expect(report.perLanguage).toEqual([
      { lang: 'en', n: 3, macroF1: expect.closeTo(5 / 9, 12), labels: 3 },
      { lang: 'fr', n: 3, macroF1: expect.closeTo(5 / 6, 12), labels: 2 },
    ]);
  });

  it('applies the thresholds it is given', () => {
    // fear at 0.65 predicts nothing (it then drops out of the average); anger at 0.6 drops the 0.55 false positive.
    const report = evaluateTask(emotion, emotionPredictions, { thresholds: [0.5, 0.6, 0.65] });
    expect(report.perLabel.map((l) => l.f1)).toEqual([0.8, 1, 0]);
    expect(report.macroF1).toBeCloseTo(0.9, 12);
    expect(report.labels).toBe(2);
    expect(report.accuracy).toBeCloseTo(5 / 6, 12);
  });
});

describe('evaluateTask: validation', () => {
  it('rejects predictions of the other task type', () => {
    expect(() => evaluateTask(sentiment, emotionPredictions)).toThrow(
      'evaluateTask: task "sentiment": predictions do not match the task type (expected multiclass; received multilabel)',
    );
    expect(() => evaluateTask(sentiment, emotionPredictions)).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', where: { api: 'evaluateTask', task: 'sentiment' } }),
    );
  });

  it('rejects shapes that do not match the labels and languages', () => {
    expect(() => evaluateTask(sentiment, { ...sentimentPredictions, langs: ['en'] })).toThrow(
      'evaluateTask: task "sentiment": probs has the wrong number of values for [1, 3] (expected 3; received 30)',
    );
    expect(() => evaluateTask(sentiment, { ...sentimentPredictions, gold: [0, 1] })).toThrow(/gold has the wrong number of examples/);
    expect(() => evaluateTask(emotion, emotionPredictions, { thresholds: [0.5] })).toThrow(/need one threshold per label/);
    expect(() => evaluateTask(sentiment, sentimentPredictions, { thresholds: [0.5, 0.5, 0.5] })).toThrow(/multilabel tasks only/);
  });

  it('rejects out-of-range gold labels and non-finite probabilities', () => {
    expect(() => evaluateTask(sentiment, { ...sentimentPredictions, gold: [0, 0, 1, 1, 0, 2, 2, 0, 0, 3] })).toThrow(/example 9 is out of range/);
    const probs = sentimentPredictions.probs.slice();
    probs[4] = Number.NaN;
    expect(() => evaluateTask(sentiment, { ...sentimentPredictions, probs })).toThrow(/probs\[4\] is not finite/);
    expect(() => evaluateTask(sentiment, { ...sentimentPredictions, probs })).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
});

describe('summarizeTasks', () => {
  it('averages macro-F1 over tasks, unweighted', () => {
    const reports = [evaluateTask(sentiment, sentimentPredictions), evaluateTask(emotion, emotionPredictions)];
    const summary = summarizeTasks(reports);
    expect(summary.tasks.map((t) => t.task)).toEqual(['sentiment', 'emotion']);
    expect(summary.meanMacroF1).toBeCloseTo((0.7851851851851851 + 1.6 / 3) / 2, 12);
  });

  it('propagates NaN and refuses an empty list', () => {
    const nan = { ...evaluateTask(sentiment, sentimentPredictions), macroF1: Number.NaN } satisfies TaskReport;
    expect(summarizeTasks([nan]).meanMacroF1).toBeNaN();
    expect(() => summarizeTasks([])).toThrow(/no task reports/);
  });
});

// Per-label scores, macro/micro F1 and accuracies against hand-computed values cross-checked with scikit-learn 1.9.
import { describe, expect, it } from 'vitest';
import { XlmtError } from '../../src/errors/index.ts';
import {
  accuracy,
  confusionMatrix,
  countsFromConfusion,
  labelScore,
  macroF1,
  microF1,
  multilabelCounts,
  subsetAccuracy,
} from '../../src/eval/index.ts';

// gold 0 0 1 1 0 2 2 0 0 2, predicted 0 1 1 1 0 2 1 0 0 2.
const gold = [0, 0, 1, 1, 0, 2, 2, 0, 0, 2];
const predicted = [0, 1, 1, 1, 0, 2, 1, 0, 0, 2];

describe('multiclass metrics', () => {
  it('builds the confusion matrix with gold rows and predicted columns', () => {
    // sklearn confusion_matrix(gold, predicted)
    expect(confusionMatrix(gold, predicted, 3)).toEqual([
      [4, 1, 0],
      [0, 2, 0],
      [0, 1, 2],
    ]);
  });

  it('scores each label from the confusion matrix', () => {
    const counts = countsFromConfusion(confusionMatrix(gold, predicted, 3));
    expect(counts).toEqual([
      { tp: 4, fp: 0, fn: 1 },
      { tp: 2, fp: 2, fn: 0 },
      { tp: 2, fp: 0, fn: 1 },
    ]);
    // sklearn precision_recall_fscore_support: P [1, 0.5, 1], R [0.8, 1, 2/3], F1 [8/9, 2/3, 0.8], support [5, 2, 3].
    const scores = counts.map(labelScore);
    expect(scores.map((s) => s.precision)).toEqual([1, 0.5, 1]);
    expect(scores.map((s) => s.recall)).toEqual([0.8, 1, 2 / 3]);
    expect(scores[0]!.f1).toBeCloseTo(8 / 9, 12);
    expect(scores[1]!.f1).toBeCloseTo(2 / 3, 12);
    expect(scores[2]!.f1).toBeCloseTo(0.8, 12);
    expect(scores.map((s) => s.support)).toEqual([5, 2, 3]);
  });

  it('averages macro-F1 over labels and pools micro-F1', () => {
    const counts = countsFromConfusion(confusionMatrix(gold, predicted, 3));
    // sklearn f1_score(average='macro') = 0.7851851851851851 = (8/9 + 2/3 + 4/5) / 3; micro = accuracy = 0.8.
    expect(macroF1(counts).value).toBeCloseTo(0.7851851851851851, 12);
    expect(macroF1(counts).labels).toBe(3);
    expect(microF1(counts)).toBeCloseTo(0.8, 12);
    expect(accuracy(confusionMatrix(gold, predicted, 3))).toBe(0.8);
  });

  it('leaves labels neither gold nor predicted out of macro-F1 and counts predicted-only labels as 0', () => {
    // en half of the example: label 2 never appears. F1 = 0.8 for labels 0 and 1 → 0.8 (sklearn 0.8; with
    // labels=[0, 1, 2] forced, sklearn gives 0.5333).
    const en = countsFromConfusion(confusionMatrix(gold.slice(0, 5), predicted.slice(0, 5), 3));
    expect(macroF1(en)).toEqual({ value: 0.8, labels: 2 });
    // de half: label 1 is predicted once and never gold: F1 (1 + 0 + 0.8) / 3 = 0.6 (sklearn 0.6).
    const de = countsFromConfusion(confusionMatrix(gold.slice(5), predicted.slice(5), 3));
    expect(macroF1(de).value).toBeCloseTo(0.6, 12);
    expect(macroF1(de).labels).toBe(3);
  });

  it('gives 0 precision, recall and F1 where they are 0/0, and NaN macro-F1 with no label present', () => {
    expect(labelScore({ tp: 0, fp: 0, fn: 0 })).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(labelScore({ tp: 0, fp: 3, fn: 0 })).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(macroF1([{ tp: 0, fp: 0, fn: 0 }]).value).toBeNaN();
    expect(microF1([{ tp: 0, fp: 0, fn: 0 }])).toBe(0);
  });

  it('rejects out-of-range labels and mismatched lengths', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/^confusionMatrix: gold label of example 1 is out of range \(expected an integer in \[0, 3\); received 3\)$/);
    expect(() => confusionMatrix([0, 1], [0, 1.5], 3)).toThrow(XlmtError);
    expect(() => confusionMatrix([0, 1], [0, 1.5], 3)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', where: { api: 'confusionMatrix' } }));
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow(/differ in length/);
  });
});

describe('multilabel metrics', () => {
  // Rows: {joy}, {joy, anger}, none, {anger}, {joy}, none; predicted {joy}, {anger, fear}, none, {anger},
  // {joy, anger}, none.
  const g = new Uint8Array([1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  const p = new Uint8Array([1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0]);

  it('counts TP, FP and FN per label', () => {
    expect(multilabelCounts(g, p, 3)).toEqual([
      { tp: 2, fp: 0, fn: 1 },
      { tp: 2, fp: 1, fn: 0 },
      { tp: 0, fp: 1, fn: 0 },
    ]);
  });

  it('matches sklearn on indicator matrices', () => {
    const counts = multilabelCounts(g, p, 3);
    // sklearn: F1 [0.8, 0.8, 0], macro 0.5333, micro 0.7273 (= 8/11), accuracy_score (exact match) 4/6.
    expect(counts.map((c) => labelScore(c).f1)).toEqual([0.8, 0.8, 0]);
    expect(macroF1(counts).value).toBeCloseTo(0.5333333333333333, 12);
    expect(microF1(counts)).toBeCloseTo(8 / 11, 12);
    expect(subsetAccuracy(g, p, 3)).toBeCloseTo(4 / 6, 12);
  });

  it('differs from sklearn defaults only on columns that are never gold nor predicted', () => {
    // sklearn f1_score(average='macro') = 0.2222 (two empty columns count 0); with labels=[0]: 0.6667 = ours.
    const counts = multilabelCounts(new Uint8Array([1, 0, 0, 0, 0, 0]), new Uint8Array([1, 0, 0, 1, 0, 0]), 3);
    expect(macroF1(counts).value).toBeCloseTo(2 / 3, 12);
    expect(macroF1(counts).labels).toBe(1);
  });

  it('rejects non-binary gold and ragged matrices', () => {
    expect(() => multilabelCounts(new Uint8Array([2, 0]), new Uint8Array([1, 0]), 2)).toThrow(/gold\[0\] is not 0 or 1/);
    expect(() => multilabelCounts(new Uint8Array([1, 0, 1]), new Uint8Array([1, 0, 1]), 2)).toThrow(/SHAPE|wrong number/);
  });
});

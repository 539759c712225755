// Threshold tuning picks the F1-maximizing cut, breaks ties toward 0.5, and scores what it picked.
import { describe, expect, it } from 'vitest';
import {
  applyThresholds,
  f1Score,
  multilabelCounts,
  scoreThresholds,
  tuneGlobalThreshold,
  tuneThresholds,
} from '../../src/eval/index.ts';

// One label; probabilities are multiples of 1/16 so every midpoint is exact in float32 and float64.
// Top k predicted → F1: k=1 0.4, 2 1/3, 3 4/7, 4 0.75 (the 0.5 cut), 5 2/3, 6 0.8, 7 8/11, 8 2/3.
const oneLabel = {
  probs: new Float32Array([0.9375, 0.8125, 0.6875, 0.5625, 0.4375, 0.3125, 0.1875, 0.0625]),
  gold: new Uint8Array([1, 0, 1, 1, 0, 1, 0, 0]),
};

describe('tuneThresholds', () => {
  it('picks the midpoint cut that maximizes F1', () => {
    const tuned = tuneThresholds(oneLabel.gold, oneLabel.probs, 1);
    expect(tuned.thresholds).toEqual([0.25]); // between 0.3125 (6th) and 0.1875 (7th)
    expect(tuned.labelF1).toEqual([0.8]);
    expect(tuned.macroF1).toBe(0.8);
    expect(scoreThresholds(oneLabel.gold, oneLabel.probs, 1, [0.5]).macroF1).toBe(0.75);
  });

  it('finds the same cut whatever the example order', () => {
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    const probs = new Float32Array(order.map((i) => oneLabel.probs[i]!));
    const gold = new Uint8Array(order.map((i) => oneLabel.gold[i]!));
    expect(tuneThresholds(gold, probs, 1).thresholds).toEqual([0.25]);
  });

  it('breaks F1 ties toward 0.5', () => {
    // Cuts 0.7 (top 1: F1 2/3), 0.5 (1/2), 0.3 (2/5), 0.1 (all: 2/3): 0.7 and 0.1 tie, 0.7 is nearer 0.5.
    const tuned = tuneThresholds(new Uint8Array([1, 0, 0, 1]), new Float32Array([0.8, 0.6, 0.4, 0.2]), 1);
    expect(tuned.thresholds[0]).toBeCloseTo(0.7, 6);
    expect(tuned.labelF1[0]).toBeCloseTo(2 / 3, 12);
  });

  it('breaks exact ties at equal distance from 0.5 toward the higher cut, on a grid', () => {
    // Cut 0.75 or 0.7: TP 1, FN 1 → 2/3. Cut 0.25 or 0.3: TP 2, FP 2 → 4/6. Equal F1, equally far from 0.5
    // (0.3 and 0.7 only up to rounding: 0.7 − 0.5 = 0.19999999999999996 in float64).
    const gold = new Uint8Array([1, 1, 0, 0, 0]);
    const probs = new Float32Array([0.8, 0.6, 0.5, 0.4, 0.1]);
    expect(tuneThresholds(gold, probs, 1, { candidates: [0.25, 0.75] }).thresholds).toEqual([0.75]);
    expect(tuneThresholds(gold, probs, 1, { candidates: [0.75, 0.25] }).thresholds).toEqual([0.75]);
    expect(tuneThresholds(gold, probs, 1, { candidates: [0.3, 0.7] }).thresholds).toEqual([0.7]);
    // Cut 0.55: top 1 → 2/3; cut 0.45: 0.8 and the three 0.5s → TP 2, FP 2 → 2/3. In float64 0.45 is nearer 0.5
    // (0.04999999999999999 against 0.050000000000000044); the tie still goes to the higher cut.
    const spread = new Float32Array([0.8, 0.5, 0.5, 0.5, 0.1]);
    expect(tuneThresholds(new Uint8Array([1, 1, 0, 0, 0]), spread, 1, { candidates: [0.45, 0.55] }).thresholds).toEqual([0.55]);
  });

  it('tunes each label on its own column and keeps 0.5 for a label with no dev positives', () => {
    // Label 0 is oneLabel; label 1 is the reverse ranking of the same gold, so its best cut differs; label 2 never gold.
    const n = 8;
    const gold = new Uint8Array(n * 3);
    const probs = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      gold[i * 3] = oneLabel.gold[i]!;
      probs[i * 3] = oneLabel.probs[i]!;
      gold[i * 3 + 1] = oneLabel.gold[i]!;
      probs[i * 3 + 1] = oneLabel.probs[n - 1 - i]!;
      probs[i * 3 + 2] = 0.75;
    }
    const tuned = tuneThresholds(gold, probs, 3);
    // Label 1, highest probability first, has gold 0 0 1 0 1 1 0 1: top k → F1 0, 0, 2/7, 1/4, 4/9, 3/5, 6/11,
    // and all eight 2/3, the best; of the all-positive cuts 0 and 0.03125, the latter is nearer 0.5.
    expect(tuned.thresholds).toEqual([0.25, 0.03125, 0.5]);
    expect(tuned.labelF1[0]).toBe(0.8);
    expect(tuned.labelF1[1]).toBeCloseTo(2 / 3, 12);
    expect(tuned.labelF1[2]).toBe(0); // predicted everywhere at 0.5, never gold
    expect(tuned.macroF1).toBeCloseTo((0.8 + 2 / 3 + 0) / 3, 12);
  });

  it('can predict everything even when a probability is exactly 0', () => {
    // Both examples are positive: only a cut at 0 predicts the second one (F1 1 against 2/3 at 0.3).
    const tuned = tuneThresholds(new Uint8Array([1, 1]), new Float32Array([0.6, 0]), 1);
    expect(tuned.thresholds).toEqual([0]);
    expect(tuned.labelF1).toEqual([1]);
  });

  it('is never beaten on dev by any threshold of a fine grid', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const n = 60;
    const numLabels = 4;
    const gold = new Uint8Array(n * numLabels).map(() => (random() < 0.3 ? 1 : 0));
    const probs = new Float32Array(n * numLabels).map((_, i) => Math.min(1, 0.6 * gold[i]! + 0.6 * random()));
    const tuned = tuneThresholds(gold, probs, numLabels);
    for (let t = 0; t <= 1; t += 0.01) {
      const counts = multilabelCounts(gold, applyThresholds(probs, numLabels, new Array<number>(numLabels).fill(t)), numLabels);
      counts.forEach((c, k) => expect(tuned.labelF1[k]!).toBeGreaterThanOrEqual(f1Score(c)));
    }
  });

  it('rejects mismatched shapes, bad grids and non-finite probabilities', () => {
    expect(() => tuneThresholds(new Uint8Array([1, 0]), new Float32Array([0.5]), 1)).toThrow(/probs has the wrong number of values/);
    expect(() => tuneThresholds(new Uint8Array([1]), new Float32Array([0.5]), 1, { candidates: [] })).toThrow(/invalid threshold grid/);
    expect(() => tuneThresholds(new Uint8Array([1]), new Float32Array([Number.NaN]), 1)).toThrow(/probs\[0\] is not finite/);
  });
});

describe('tuneGlobalThreshold', () => {
  it('picks one cut maximizing macro-F1 over labels', () => {
    // Label 0: probs 0.9 0.7 0.3 0.1, gold 1 1 0 0. Label 1: probs 0.6 0.4 0.35 0.2, gold 1 1 1 0.
    // Cut 0.5 → F1 1 and 0.5 (0.75); cut 0.375 (between 0.4 and 0.35) → 1 and 0.8 (0.9); cut 0.325 → label 0
    // still 1 (0.3 is below), label 1 all three positives: 1 → macro 1, the best; cut 0.25 → 0.8 and 1 (0.9).
    const gold = new Uint8Array([1, 1, 1, 1, 0, 1, 0, 0]);
    const probs = new Float32Array([0.9, 0.6, 0.7, 0.4, 0.3, 0.35, 0.1, 0.2]);
    const tuned = tuneGlobalThreshold(gold, probs, 2);
    expect(tuned.thresholds[0]).toBeCloseTo(0.325, 6);
    expect(tuned.thresholds[1]).toBe(tuned.thresholds[0]);
    expect(tuned.macroF1).toBe(1);
    expect(tuned.labelF1).toEqual([1, 1]);
  });

  it('does no better than per-label tuning on dev', () => {
    // Label 0: probs 0.9 0.6 0.8 0.4, gold 1 0 1 0, separated at 0.7. Label 1: probs 0.2 0.3 0.1 0.25, gold
    // 0 1 0 1, separated at 0.225. One cut: 0.7 → 1 and 0 (0.5); 0.275 → 2/3 and 2/3; 0.225 → 2/3 and 1 (5/6).
    const gold = new Uint8Array([1, 0, 0, 1, 1, 0, 0, 1]);
    const probs = new Float32Array([0.9, 0.2, 0.6, 0.3, 0.8, 0.1, 0.4, 0.25]);
    const perLabel = tuneThresholds(gold, probs, 2);
    expect(perLabel.thresholds[0]).toBeCloseTo(0.7, 6);
    expect(perLabel.thresholds[1]).toBeCloseTo(0.225, 6);
    expect(perLabel.macroF1).toBe(1);
    const global = tuneGlobalThreshold(gold, probs, 2);
    expect(global.thresholds[0]).toBeCloseTo(0.225, 6);
    expect(global.macroF1).toBeCloseTo(5 / 6, 12);
  });
});

describe('applyThresholds', () => {
  it('predicts a label where its probability is at least its threshold', () => {
    const probs = new Float32Array([0.5, 0.2, 0.49, 0.2]);
    expect(Array.from(applyThresholds(probs, 2, [0.5, 0.2]))).toEqual([1, 1, 0, 1]);
    expect(() => applyThresholds(probs, 2, [0.5])).toThrow(/need one threshold per label \(expected 2 numbers; received \[0.5\]\)/);
  });
});

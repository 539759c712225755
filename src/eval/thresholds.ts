// Multilabel decision thresholds: tuning them on dev (per label or one global cut), applying them, scoring them.
//
// A label is predicted where its probability is >= its threshold (sklearn's precision_recall_curve convention).
// Candidate cuts are, by default, 0 and the midpoints between consecutive distinct values of {0} ∪ the dev
// probabilities, so every distinct way of splitting dev is tried once and a cut never sits on a dev probability;
// a grid can be passed instead. Ties in F1 go to the cut nearest 0.5 (the untuned default), then to the higher cut.
import { badArgument, checkBinary, checkLabelCount, checkMatrix, nonFinite } from './errors.ts';
import { f1Score, macroF1, multilabelCounts, type LabelCounts } from './f1.ts';

/** The threshold of a label that cannot be tuned, and the tie-breaking target. */
export const DEFAULT_THRESHOLD = 0.5;

export interface ThresholdOptions {
  /** 'midpoints' (the default) or an explicit grid of cuts such as 0.05, 0.10, …, 0.95. */
  readonly candidates?: 'midpoints' | readonly number[];
}

/** The same shape for per-label and global tuning, so either can feed `applyThresholds` and `evaluateTask`. */
export interface TunedThresholds {
  /** One threshold per label (all equal after global tuning). */
  readonly thresholds: number[];
  /** Each label's dev F1 at its threshold. */
  readonly labelF1: number[];
  /** Dev macro-F1 at these thresholds, over the present labels (see f1.ts). */
  readonly macroF1: number;
}

/**
 * For each label, the cut that maximizes that label's F1 on dev. A label with no gold positives on dev keeps 0.5:
 * its F1 is 0 at every cut that predicts it at all, so dev says nothing about where to put it.
 */
export function tuneThresholds(gold: Uint8Array, probs: ArrayLike<number>, numLabels: number, options: ThresholdOptions = {}): TunedThresholds {
  const n = checkInputs('tuneThresholds', gold, probs, numLabels);
  const thresholds: number[] = [];
  for (let k = 0; k < numLabels; k++) {
    const scores: number[] = [];
    const positive: boolean[] = [];
    for (let i = 0; i < n; i++) {
      scores.push(probs[i * numLabels + k]!);
      positive.push(gold[i * numLabels + k] === 1);
    }
    thresholds.push(bestLabelCut(scores, positive, candidateCuts('tuneThresholds', scores, options)));
  }
  return scoreThresholds(gold, probs, numLabels, thresholds);
}

/** One cut for every label, maximizing dev macro-F1 (over the present labels, as reported). */
export function tuneGlobalThreshold(gold: Uint8Array, probs: ArrayLike<number>, numLabels: number, options: ThresholdOptions = {}): TunedThresholds {
  const n = checkInputs('tuneGlobalThreshold', gold, probs, numLabels);
  const cuts = candidateCuts('tuneGlobalThreshold', Array.from(probs), options); // descending
  const order = Array.from({ length: n * numLabels }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]!);
  const tp = new Array<number>(numLabels).fill(0);
  const fp = new Array<number>(numLabels).fill(0);
  const positives = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < gold.length; i++) positives[i % numLabels]! += gold[i]!;

  let best = DEFAULT_THRESHOLD;
  let bestScore = Number.NEGATIVE_INFINITY;
  let next = 0;
  for (const cut of cuts) {
    // Sweeping cuts downwards only ever adds predictions, so each value is counted once.
    while (next < order.length && probs[order[next]!]! >= cut) {
      const i = order[next]!;
      const k = i % numLabels;
      if (gold[i] === 1) tp[k]! += 1;
      else fp[k]! += 1;
      next += 1;
    }
    const counts = tp.map((t, k): LabelCounts => ({ tp: t, fp: fp[k]!, fn: positives[k]! - t }));
    // NaN (nothing gold or predicted) never wins; a sum of F1s can differ by rounding, hence the tolerance.
    const score = macroF1(counts).value;
    if (score > bestScore + 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && closerToDefault(cut, best))) {
      best = cut;
      bestScore = score;
    }
  }
  return scoreThresholds(gold, probs, numLabels, new Array<number>(numLabels).fill(best));
}

/** 0/1 predictions [N, L]: 1 where probs[i, k] >= thresholds[k]. */
export function applyThresholds(probs: ArrayLike<number>, numLabels: number, thresholds: readonly number[]): Uint8Array {
  checkLabelCount('applyThresholds', numLabels);
  checkThresholds('applyThresholds', thresholds, numLabels);
  checkMatrix('applyThresholds', 'probs', probs, Math.floor(probs.length / numLabels), numLabels);
  const predicted = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) predicted[i] = probs[i]! >= thresholds[i % numLabels]! ? 1 : 0;
  return predicted;
}

/** Per-label F1 and macro-F1 of gold against probabilities cut at the given thresholds. */
export function scoreThresholds(gold: Uint8Array, probs: ArrayLike<number>, numLabels: number, thresholds: readonly number[]): TunedThresholds {
  checkInputs('scoreThresholds', gold, probs, numLabels);
  const counts = multilabelCounts(gold, applyThresholds(probs, numLabels, thresholds), numLabels);
  return { thresholds: [...thresholds], labelF1: counts.map(f1Score), macroF1: macroF1(counts).value };
}

/** The cut maximizing F1 of one label; `cuts` must be in descending order. */
function bestLabelCut(scores: readonly number[], positive: readonly boolean[], cuts: readonly number[]): number {
  const total = positive.filter(Boolean).length;
  if (total === 0) return DEFAULT_THRESHOLD;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let tp = 0;
  let fp = 0;
  let next = 0;
  let best = DEFAULT_THRESHOLD;
  let bestF1 = Number.NEGATIVE_INFINITY;
  for (const cut of cuts) {
    while (next < order.length && scores[order[next]!]! >= cut) {
      if (positive[order[next]!]) tp += 1;
      else fp += 1;
      next += 1;
    }
    // Equal ratios of integers divide to the same double, so exact comparison finds true ties.
    const f1 = f1Score({ tp, fp, fn: total - tp });
    if (f1 > bestF1 || (f1 === bestF1 && closerToDefault(cut, best))) {
      best = cut;
      bestF1 = f1;
    }
  }
  return best;
}

/** Candidate cuts in descending order. */
function candidateCuts(where: string, scores: readonly number[], options: ThresholdOptions): number[] {
  const candidates = options.candidates ?? 'midpoints';
  if (candidates !== 'midpoints') {
    if (candidates.length === 0 || candidates.some((c) => !Number.isFinite(c))) {
      throw badArgument(where, 'invalid threshold grid', { expected: 'a non-empty list of finite numbers', received: `[${candidates.join(', ')}]` });
    }
    return [...new Set(candidates)].sort((a, b) => b - a);
  }
  const values = [...new Set([0, ...scores])].sort((a, b) => a - b);
  const cuts = [0];
  for (let j = 1; j < values.length; j++) cuts.push((values[j - 1]! + values[j]!) / 2);
  return cuts.sort((a, b) => b - a);
}

/** Distances within 1e-12 count as equal, so grid points such as 0.45 and 0.55 tie despite their rounding. */
function closerToDefault(cut: number, incumbent: number): boolean {
  const d = Math.abs(cut - DEFAULT_THRESHOLD);
  const e = Math.abs(incumbent - DEFAULT_THRESHOLD);
  return d < e - 1e-12 || (Math.abs(d - e) <= 1e-12 && cut > incumbent);
}

function checkInputs(where: string, gold: Uint8Array, probs: ArrayLike<number>, numLabels: number): number {
  checkLabelCount(where, numLabels);
  const n = Math.floor(gold.length / numLabels);
  checkMatrix(where, 'gold', gold, n, numLabels);
  checkMatrix(where, 'probs', probs, n, numLabels);
  checkBinary(where, 'gold', gold);
  for (let i = 0; i < probs.length; i++) {
    if (!Number.isFinite(probs[i]!)) {
      throw nonFinite(where, `probs[${i}] is not finite`, { expected: 'a probability', received: String(probs[i]) });
    }
  }
  return n;
}

function checkThresholds(where: string, thresholds: readonly number[], numLabels: number): void {
  if (thresholds.length !== numLabels || thresholds.some((t) => Number.isNaN(t))) {
    throw badArgument(where, 'need one threshold per label', { expected: `${numLabels} numbers`, received: `[${thresholds.join(', ')}]` });
  }
}

// Per-label precision, recall and F1 from counts, and the macro and micro averages and accuracies built on them.
//
// Zero-division convention, applied everywhere in src/eval (whole test sets, per-language subsets, threshold tuning):
//   - precision with no predictions of the label is 0; recall with no gold occurrence of it is 0 (sklearn's
//     zero_division=0, without the warning);
//   - F1 = 2·TP / (2·TP + FP + FN), which is 0 whenever TP is 0, and 0 for a label that is neither gold nor predicted;
//   - macro-F1 averages only the labels that are *present*, i.e. gold or predicted at least once (TP + FP + FN > 0).
//     A label that is neither has no evidence either way, so it is left out rather than counted as 0. This is what
//     sklearn's f1_score(average='macro') does for multiclass input without `labels=` (it averages the labels in
//     y_true ∪ y_pred); for multilabel input it equals f1_score(..., labels=<the present columns>).
//   - with no present label at all, macro-F1 is NaN: there is nothing to average, and a number would hide that.
import { badArgument, checkBinary, checkLabelCount, checkMatrix, type At } from './errors.ts';

/** True positives, false positives and false negatives of one label. */
export interface LabelCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export interface LabelScore {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Gold occurrences of the label: TP + FN. */
  readonly support: number;
}

export interface MacroF1 {
  /** Mean F1 over the present labels; NaN when none is present. */
  readonly value: number;
  /** How many labels were averaged (present: gold or predicted at least once). */
  readonly labels: number;
}

/** Counts[gold][predicted] over the examples: gold rows × predicted columns. */
export function confusionMatrix(gold: ArrayLike<number>, predicted: ArrayLike<number>, numLabels: number): number[][] {
  const where = 'confusionMatrix';
  checkLabelCount(where, numLabels);
  if (gold.length !== predicted.length) {
    throw badArgument(where, 'gold and predicted label lists differ in length', { expected: String(gold.length), received: String(predicted.length) });
  }
  const counts = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  for (let i = 0; i < gold.length; i++) {
    const g = checkIndex(where, 'gold', i, gold[i]!, numLabels);
    const p = checkIndex(where, 'predicted', i, predicted[i]!, numLabels);
    counts[g]![p]! += 1;
  }
  return counts;
}

/** Per-label counts of a square confusion matrix: TP on the diagonal, FP the rest of its column, FN of its row. */
export function countsFromConfusion(confusion: readonly (readonly number[])[]): LabelCounts[] {
  const n = confusion.length;
  const counts: LabelCounts[] = [];
  for (let k = 0; k < n; k++) {
    const row = confusion[k]!;
    if (row.length !== n) {
      throw badArgument('countsFromConfusion', `row ${k} of the confusion matrix has the wrong length`, { expected: String(n), received: String(row.length) });
    }
    const tp = row[k]!;
    let rowSum = 0;
    let colSum = 0;
    for (let j = 0; j < n; j++) {
      rowSum += row[j]!;
      colSum += confusion[j]![k]!;
    }
    counts.push({ tp, fp: colSum - tp, fn: rowSum - tp });
  }
  return counts;
}

/** Per-label counts of 0/1 gold and predicted label sets, both [N, L] row-major. */
export function multilabelCounts(gold: Uint8Array, predicted: Uint8Array, numLabels: number): LabelCounts[] {
  const where = 'multilabelCounts';
  checkLabelCount(where, numLabels);
  const n = Math.floor(gold.length / numLabels);
  checkMatrix(where, 'gold', gold, n, numLabels);
  checkMatrix(where, 'predicted', predicted, n, numLabels);
  checkBinary(where, 'gold', gold);
  checkBinary(where, 'predicted', predicted);
  const tp = new Array<number>(numLabels).fill(0);
  const fp = new Array<number>(numLabels).fill(0);
  const fn = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < gold.length; i++) {
    const k = i % numLabels;
    const g = gold[i]!;
    const p = predicted[i]!;
    if (g === 1 && p === 1) tp[k]! += 1;
    else if (p === 1) fp[k]! += 1;
    else if (g === 1) fn[k]! += 1;
  }
  return tp.map((t, k) => ({ tp: t, fp: fp[k]!, fn: fn[k]! }));
}

/** Gold or predicted at least once: the labels macro-F1 averages. */
export function isPresent(c: LabelCounts): boolean {
  return c.tp + c.fp + c.fn > 0;
}

export function labelScore(c: LabelCounts): LabelScore {
  return {
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: f1Score(c),
    support: c.tp + c.fn,
  };
}

/** 2·TP / (2·TP + FP + FN): equal to the harmonic mean of precision and recall, and 0 where that is 0/0. */
export function f1Score(c: LabelCounts): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
}

/** Unweighted mean of per-label F1 over the present labels (see the convention at the top of this file). */
export function macroF1(counts: readonly LabelCounts[]): MacroF1 {
  let sum = 0;
  let labels = 0;
  for (const c of counts) {
    if (!isPresent(c)) continue;
    sum += f1Score(c);
    labels += 1;
  }
  return { value: labels === 0 ? Number.NaN : sum / labels, labels };
}

/** F1 of the counts pooled over labels. For multiclass input it equals accuracy. 0 with nothing gold or predicted. */
export function microF1(counts: readonly LabelCounts[]): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const c of counts) {
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  return f1Score({ tp, fp, fn });
}

/** Share of examples on the diagonal; NaN for an empty matrix. */
export function accuracy(confusion: readonly (readonly number[])[]): number {
  let correct = 0;
  let total = 0;
  confusion.forEach((row, k) => {
    correct += row[k] ?? 0;
    for (const v of row) total += v;
  });
  return total === 0 ? Number.NaN : correct / total;
}

/**
 * Multilabel exact-match ratio (sklearn's accuracy_score on indicator matrices): the share of examples whose whole
 * predicted label set equals the gold set, an all-zero "none" row matching only an all-zero prediction.
 */
export function subsetAccuracy(gold: Uint8Array, predicted: Uint8Array, numLabels: number): number {
  const where = 'subsetAccuracy';
  checkLabelCount(where, numLabels);
  const n = Math.floor(gold.length / numLabels);
  checkMatrix(where, 'gold', gold, n, numLabels);
  checkMatrix(where, 'predicted', predicted, n, numLabels);
  let exact = 0;
  for (let i = 0; i < n; i++) {
    let same = true;
    for (let k = 0; k < numLabels && same; k++) same = gold[i * numLabels + k] === predicted[i * numLabels + k];
    if (same) exact += 1;
  }
  return n === 0 ? Number.NaN : exact / n;
}

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

function checkIndex(where: At, name: string, i: number, value: number, numLabels: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= numLabels) {
    throw badArgument(where, `${name} label of example ${i} is out of range`, { expected: `an integer in [0, ${numLabels})`, received: String(value) });
  }
  return value;
}

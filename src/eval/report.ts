// One task's quality report (overall, per label, per language) and the multi-task summary used for early stopping.
//
// Per-language macro-F1 is computed on that language's examples alone, with the convention of f1.ts: it averages
// the task's labels that are gold or predicted among those examples. A label a language never has and the model
// never predicts there is left out (sklearn's macro average over y_true ∪ y_pred of the subset); one the model
// predicts there without any gold occurrence counts as F1 = 0. `labels` in each entry says how many were averaged.
import { badArgument, checkBinary, checkMatrix, nonFinite, type At } from './errors.ts';
import {
  accuracy,
  confusionMatrix,
  countsFromConfusion,
  labelScore,
  macroF1,
  microF1,
  multilabelCounts,
  subsetAccuracy,
  type LabelCounts,
} from './f1.ts';
import { DEFAULT_THRESHOLD, applyThresholds } from './thresholds.ts';
import type { MulticlassPredictions, MultilabelPredictions, Task, TaskPredictions, TaskType } from './types.ts';

export interface LabelReport {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

export interface LanguageReport {
  readonly lang: string;
  /** Examples in this language. */
  readonly n: number;
  readonly macroF1: number;
  /** Labels averaged into macroF1: those gold or predicted in this language. */
  readonly labels: number;
}

/** Gold rows × predicted columns, both in the order of `labels`. */
export interface Confusion {
  readonly labels: readonly string[];
  readonly counts: number[][];
}

export interface TaskReport {
  readonly task: string;
  readonly type: TaskType;
  readonly n: number;
  /** Mean F1 over the labels present in gold or predictions (f1.ts); NaN when none is. */
  readonly macroF1: number;
  /** Labels averaged into macroF1. */
  readonly labels: number;
  /** F1 of counts pooled over labels; equals accuracy for multiclass tasks. */
  readonly microF1: number;
  /** Multiclass: share of correct argmaxes. Multilabel: exact-match ratio of whole label sets (a "none" row included). */
  readonly accuracy: number;
  readonly perLabel: LabelReport[];
  /** Sorted by language code. */
  readonly perLanguage: LanguageReport[];
  /** Multiclass only; null for multilabel tasks, whose per-label counts are in perLabel. */
  readonly confusion: Confusion | null;
  /** Multilabel only: the threshold each label was cut at; null for multiclass tasks. */
  readonly thresholds: number[] | null;
  /** Multilabel only: where the thresholds came from, and whether that makes the scores optimistic; null for multiclass. */
  readonly thresholdSource: ThresholdSource | null;
}

/**
 * Where a multilabel task's thresholds came from. Thresholds tuned on the very examples that are scored fit
 * that sample's noise, so its F1 figures are optimistic (upper bounds): held-out data gives unbiased ones.
 */
export interface ThresholdSource {
  /** 'tuned': on the examples scored; 'given': fixed beforehand (stored with the model); 'default': 0.5 for every label. */
  readonly kind: 'tuned' | 'given' | 'default';
  /** The data file they were tuned on, when known. */
  readonly tunedOn: string | null;
  /** They were tuned on the examples scored (here, or at training on this same file): the scores are optimistic. */
  readonly optimistic: boolean;
}

export interface EvaluateOptions {
  /** Multilabel only: one threshold per label, typically from tuneThresholds on dev. Default 0.5 for every label. */
  readonly thresholds?: readonly number[];
  /** Multilabel only: where `thresholds` came from. Default: 'given' (unknown origin) with thresholds, else 'default'. */
  readonly thresholdSource?: ThresholdSource;
}

export interface TaskScore {
  readonly task: string;
  readonly macroF1: number;
}

export interface MultiTaskSummary {
  /** Unweighted mean of the tasks' macro-F1: the early-stopping criterion. */
  readonly meanMacroF1: number;
  readonly tasks: TaskScore[];
}

export function evaluateTask(task: Task, predictions: TaskPredictions, options: EvaluateOptions = {}): TaskReport {
  const where: At = { api: 'evaluateTask', task: task.name };
  if (predictions.type !== task.type) {
    throw badArgument(where, 'predictions do not match the task type', { expected: task.type, received: predictions.type });
  }
  if (task.labels.length === 0) {
    throw badArgument(where, 'the task has no labels', { expected: 'at least one label', received: '[]' });
  }
  const n = predictions.langs.length;
  checkMatrix(where, 'probs', predictions.probs, n, task.labels.length);
  const bad = predictions.probs.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw nonFinite(where, `probs[${bad}] is not finite`, { expected: 'a probability', received: String(predictions.probs[bad]) });
  }
  return predictions.type === 'multiclass' ? evaluateMulticlass(where, task, predictions, options) : evaluateMultilabel(where, task, predictions, options);
}

/** Mean macro-F1 over tasks; NaN if any task's macro-F1 is, so a degenerate dev set cannot pass unnoticed. */
export function summarizeTasks(reports: readonly TaskReport[]): MultiTaskSummary {
  if (reports.length === 0) {
    throw badArgument('summarizeTasks', 'no task reports', { expected: 'at least one', received: '0' });
  }
  const tasks = reports.map((r) => ({ task: r.task, macroF1: r.macroF1 }));
  const meanMacroF1 = tasks.reduce((sum, t) => sum + t.macroF1, 0) / tasks.length;
  return { meanMacroF1, tasks };
}

function evaluateMulticlass(where: At, task: Task, p: MulticlassPredictions, options: EvaluateOptions): TaskReport {
  if (options.thresholds !== undefined || options.thresholdSource !== undefined) {
    throw badArgument(where, 'thresholds apply to multilabel tasks only', { expected: 'no thresholds', received: `${options.thresholds?.length ?? 0} thresholds` });
  }
  const numLabels = task.labels.length;
  const n = p.langs.length;
  if (p.gold.length !== n) {
    throw badArgument(where, 'gold has the wrong number of examples', { expected: String(n), received: String(p.gold.length) });
  }
  const predicted = argmaxRows(p.probs, numLabels);
  const confusion = confusionMatrix(p.gold, predicted, numLabels);
  const counts = countsFromConfusion(confusion);
  const perLanguage = groupByLanguage(p.langs).map(([lang, rows]) => {
    const subset = confusionMatrix(rows.map((i) => p.gold[i]!), rows.map((i) => predicted[i]!), numLabels);
    return languageReport(lang, rows.length, countsFromConfusion(subset));
  });
  return {
    ...overall(task, n, counts),
    accuracy: accuracy(confusion),
    perLanguage,
    confusion: { labels: [...task.labels], counts: confusion },
    thresholds: null,
    thresholdSource: null,
  };
}

function evaluateMultilabel(where: At, task: Task, p: MultilabelPredictions, options: EvaluateOptions): TaskReport {
  const numLabels = task.labels.length;
  const n = p.langs.length;
  checkMatrix(where, 'gold', p.gold, n, numLabels);
  checkBinary(where, 'gold', p.gold);
  const thresholds = [...(options.thresholds ?? new Array<number>(numLabels).fill(DEFAULT_THRESHOLD))];
  const predicted = applyThresholds(p.probs, numLabels, thresholds);
  const counts = multilabelCounts(p.gold, predicted, numLabels);
  const perLanguage = groupByLanguage(p.langs).map(([lang, rows]) => {
    const subset = multilabelCounts(gatherRows(p.gold, rows, numLabels), gatherRows(predicted, rows, numLabels), numLabels);
    return languageReport(lang, rows.length, subset);
  });
  return {
    ...overall(task, n, counts),
    accuracy: subsetAccuracy(p.gold, predicted, numLabels),
    perLanguage,
    confusion: null,
    thresholds,
    thresholdSource: options.thresholdSource ?? { kind: options.thresholds === undefined ? 'default' : 'given', tunedOn: null, optimistic: false },
  };
}

type Overall = Pick<TaskReport, 'task' | 'type' | 'n' | 'macroF1' | 'labels' | 'microF1' | 'perLabel'>;

function overall(task: Task, n: number, counts: readonly LabelCounts[]): Overall {
  const macro = macroF1(counts);
  return {
    task: task.name,
    type: task.type,
    n,
    macroF1: macro.value,
    labels: macro.labels,
    microF1: microF1(counts),
    perLabel: counts.map((c, k) => ({ label: task.labels[k]!, ...labelScore(c) })),
  };
}

function languageReport(lang: string, n: number, counts: readonly LabelCounts[]): LanguageReport {
  const macro = macroF1(counts);
  return { lang, n, macroF1: macro.value, labels: macro.labels };
}

/** Example indices per language, languages sorted by code unit so the order never depends on the data's order. */
function groupByLanguage(langs: readonly string[]): [string, number[]][] {
  const groups = new Map<string, number[]>();
  langs.forEach((lang, i) => {
    const rows = groups.get(lang);
    if (rows === undefined) groups.set(lang, [i]);
    else rows.push(i);
  });
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Argmax per row of an [N, L] matrix; the first maximum wins ties. */
function argmaxRows(probs: Float32Array, numLabels: number): Int32Array {
  const n = probs.length / numLabels;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numLabels; k++) if (probs[i * numLabels + k]! > probs[i * numLabels + best]!) best = k;
    out[i] = best;
  }
  return out;
}

function gatherRows(data: Uint8Array, rows: readonly number[], numLabels: number): Uint8Array {
  const out = new Uint8Array(rows.length * numLabels);
  rows.forEach((r, j) => out.set(data.subarray(r * numLabels, (r + 1) * numLabels), j * numLabels));
  return out;
}

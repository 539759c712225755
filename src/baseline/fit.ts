// Fits one task's head: tf-idf over the task's training rows, then logistic regression by L-BFGS from zero.
import type { Example, Task } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { minimize, type IterationEvent, type StopReason } from './lbfgs.ts';
import { LogisticObjective, type Targets } from './objective.ts';
import type { Csr } from './sparse.ts';
import { fitVocabulary, tfidfRows, vocabularyLookup, type Vocabulary } from './tfidf.ts';

export interface FitSettings {
  /** Inverse regularization strength: the objective is Σ cross-entropy + ‖W‖² / (2C). */
  readonly c: number;
  /** L-BFGS iterations at most. */
  readonly iterations: number;
}

/** The Python reference's settings. */
export const DEFAULT_FIT: FitSettings = { c: 10, iterations: 300 };

/** What fitting did, kept in baseline.json. */
export interface FitReport {
  readonly rows: number;
  readonly features: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** The objective at the end, per training row. */
  readonly loss: number;
  readonly stop: StopReason;
  readonly seconds: number;
}

/** A fitted task: its features and the weights over them, in float32 as saved. */
export interface TaskHead {
  readonly vocab: Vocabulary;
  readonly weights: Float32Array; // [features, labels]
  readonly bias: Float32Array; // [labels]
}

export interface FitProgress extends IterationEvent {
  readonly rows: number;
}

/**
 * `rows` index both `examples` and the hashed `counts`; each must be labeled for the task. Weights come back
 * rounded to float32, the precision they are saved in, so scores at training time equal those after loading.
 */
export function fitTask(task: Task, examples: readonly Example[], counts: Csr, rows: Int32Array, settings: FitSettings, onIteration?: (p: FitProgress) => void): { head: TaskHead; report: FitReport } {
  const started = performance.now();
  const vocab = fitVocabulary(counts, rows);
  const x = tfidfRows(counts, rows, vocab, vocabularyLookup(vocab, counts.cols));
  const k = task.labels.length;
  const objective = new LogisticObjective(x, targets(task, examples, rows), k, settings.c);
  const result = minimize((theta, grad) => objective.evaluate(theta, grad), new Float64Array(objective.size), {
    maxIterations: settings.iterations,
    ...(onIteration ? { onIteration: (e: IterationEvent) => onIteration({ ...e, value: e.value / rows.length, rows: rows.length }) } : {}),
  });
  const split = vocab.buckets.length * k;
  const head = { vocab, weights: Float32Array.from(result.x.subarray(0, split)), bias: Float32Array.from(result.x.subarray(split)) };
  const report: FitReport = {
    rows: rows.length,
    features: vocab.buckets.length,
    iterations: result.iterations,
    evaluations: result.evaluations,
    loss: result.value / rows.length,
    stop: result.stop,
    seconds: (performance.now() - started) / 1000,
  };
  return { head, report };
}

function targets(task: Task, examples: readonly Example[], rows: Int32Array): Targets {
  const gold = (i: number) => {
    const value = examples[i]?.labels.get(task.name);
    if (value === undefined) throw new XlmtError({ code: 'BAD_ARGUMENT', message: `example ${i} is not labeled for the task`, where: { api: 'fitTask', task: task.name } });
    return value;
  };
  if (task.type === 'multiclass') return { type: 'multiclass', labels: Int32Array.from(rows, (i) => gold(i) as number) };
  const k = task.labels.length;
  const labels = new Uint8Array(rows.length * k);
  rows.forEach((i, r) => {
    for (const l of gold(i) as readonly number[]) labels[r * k + l] = 1;
  });
  return { type: 'multilabel', labels };
}

// Scores a model on a labeled dataset: each task on the examples labeled for it, per language and per label.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Dataset, Example, Task } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { evaluateTask, summarizeTasks, tuneThresholds, type MultiTaskSummary, type TaskPredictions, type TaskReport, type ThresholdSource } from '../eval/index.ts';

/** Probabilities [indices.length, labels] per task for the given examples, rows in the order of `indices`. */
export type ScoreExamples = (indices: readonly number[]) => Promise<Map<string, Float32Array>>;

/** A data file as recorded with the thresholds tuned on it: the path given then and the sha256 of its bytes. */
export interface DataFingerprint {
  readonly file: string;
  readonly sha256: string;
}

export async function fingerprintFile(file: string): Promise<DataFingerprint> {
  return { file, sha256: createHash('sha256').update(await readFile(file)).digest('hex') };
}

/** The fingerprint recorded under `thresholdsTunedOn` in a model's info, when there is a well-formed one. */
export function recordedFingerprint(info: Readonly<Record<string, unknown>>): DataFingerprint | null {
  const v = info['thresholdsTunedOn'] as Partial<DataFingerprint> | null | undefined;
  return v && typeof v.file === 'string' && typeof v.sha256 === 'string' ? { file: v.file, sha256: v.sha256 } : null;
}

/**
 * Multilabel thresholds per task: tuned on this dataset, or given (from dev, stored with the model) with the
 * fingerprint of the file they were tuned on when it was recorded, so that evaluating on that same file is
 * reported as optimistic.
 */
export type ThresholdChoice =
  | { readonly tune: true }
  | { readonly tune: false; readonly thresholds: Readonly<Record<string, readonly number[]>>; readonly tunedOn?: DataFingerprint | null };

export interface DatasetEvaluation {
  readonly reports: TaskReport[];
  readonly summary: MultiTaskSummary;
  /** The multilabel thresholds used, per task. */
  readonly thresholds: Record<string, number[]>;
}

function labeledFor(examples: readonly Example[], task: string): number[] {
  const indices: number[] = [];
  examples.forEach((e, i) => {
    if (e.labels.has(task)) indices.push(i);
  });
  return indices;
}

export async function evaluateDataset(
  score: ScoreExamples,
  dataset: Dataset,
  tasks: readonly Task[],
  choice: ThresholdChoice,
): Promise<DatasetEvaluation> {
  const reports: TaskReport[] = [];
  const thresholds: Record<string, number[]> = {};
  const present = tasks.filter((t) => labeledFor(dataset.examples, t.name).length > 0);
  if (present.length === 0) {
    throw new XlmtError({
      code: 'NO_LABELED_EXAMPLES',
      message: 'no example is labeled for any of the model\'s tasks',
      where: { file: dataset.file },
      expected: `labels for ${tasks.map((t) => t.name).join(', ')}`,
    });
  }
  const given = choice.tune ? null : await givenSource(choice.tunedOn ?? null, dataset.file);
  const everyIndex = [...new Set(present.flatMap((t) => labeledFor(dataset.examples, t.name)))].sort((a, b) => a - b);
  const rowOf = new Map(everyIndex.map((example, row) => [example, row]));
  const probs = await score(everyIndex);
  for (const task of present) {
    const indices = labeledFor(dataset.examples, task.name);
    const width = task.labels.length;
    const all = probs.get(task.name) as Float32Array;
    const taskProbs = new Float32Array(indices.length * width);
    indices.forEach((example, i) => {
      const row = rowOf.get(example) as number;
      taskProbs.set(all.subarray(row * width, (row + 1) * width), i * width);
    });
    const langs = indices.map((i) => (dataset.examples[i] as Example).lang);
    const gold = indices.map((i) => (dataset.examples[i] as Example).labels.get(task.name));
    let predictions: TaskPredictions;
    if (task.type === 'multiclass') {
      predictions = { type: 'multiclass', gold: gold.map(Number), probs: taskProbs, langs };
      reports.push(evaluateTask(task, predictions));
      continue;
    }
    const goldMatrix = new Uint8Array(indices.length * width);
    gold.forEach((labels, i) => {
      for (const l of labels as readonly number[]) goldMatrix[i * width + l] = 1;
    });
    predictions = { type: 'multilabel', gold: goldMatrix, probs: taskProbs, langs };
    const stored = choice.tune ? undefined : choice.thresholds[task.name];
    const cut = choice.tune ? tuneThresholds(goldMatrix, taskProbs, width).thresholds : [...(stored ?? task.labels.map(() => 0.5))];
    const thresholdSource: ThresholdSource = choice.tune
      ? { kind: 'tuned', tunedOn: dataset.file, optimistic: true }
      : stored === undefined || given === null ? { kind: 'default', tunedOn: null, optimistic: false } : given;
    thresholds[task.name] = cut;
    reports.push(evaluateTask(task, predictions, { thresholds: cut, thresholdSource }));
  }
  return { reports, summary: summarizeTasks(reports), thresholds };
}

/** Given thresholds are optimistic on the very file they were tuned on, recognized by its bytes. */
async function givenSource(tunedOn: DataFingerprint | null, file: string): Promise<ThresholdSource> {
  if (tunedOn === null) return { kind: 'given', tunedOn: null, optimistic: false };
  const here = await fingerprintFile(file);
  return { kind: 'given', tunedOn: tunedOn.file, optimistic: here.sha256 === tunedOn.sha256 };
}

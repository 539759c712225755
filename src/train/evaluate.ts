// Scores a model on a labeled dataset: each task on the examples labeled for it, per language and per label.
import type { Dataset, Example, Task } from '../data/index.ts';
import { evaluateTask, summarizeTasks, tuneThresholds, type MultiTaskSummary, type TaskPredictions, type TaskReport } from '../eval/index.ts';

/** Probabilities [indices.length, labels] per task for the given examples, rows in the order of `indices`. */
export type ScoreExamples = (indices: readonly number[]) => Promise<Map<string, Float32Array>>;

/** Multilabel thresholds per task: tuned on this dataset, or given (from dev, stored with the model). */
export type ThresholdChoice = { readonly tune: true } | { readonly tune: false; readonly thresholds: Readonly<Record<string, readonly number[]>> };

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
  if (present.length === 0) throw new Error(`${dataset.file}: no example is labeled for any of the model's tasks (${tasks.map((t) => t.name).join(', ')})`);
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
    const cut = choice.tune ? tuneThresholds(goldMatrix, taskProbs, width).thresholds : [...(choice.thresholds[task.name] ?? task.labels.map(() => 0.5))];
    thresholds[task.name] = cut;
    reports.push(evaluateTask(task, predictions, { thresholds: cut }));
  }
  return { reports, summary: summarizeTasks(reports), thresholds };
}

// What every classifier in xlmt answers, whatever runs it: the HTTP service and batch scoring depend on this
// interface only, so they can be tested with a stub and served by any backend.
import { didYouMean, oneOf } from '../data/suggest.ts';
import { XlmtError } from '../errors/index.ts';

export interface TaskInfo {
  readonly name: string;
  readonly type: 'multiclass' | 'multilabel';
  readonly labels: readonly string[];
  /** Multilabel decision thresholds per label, tuned on dev; absent for multiclass. */
  readonly thresholds?: readonly number[];
}

/** Multiclass: the arg-max label; multilabel: every label whose probability reaches its threshold. */
export type TaskPrediction =
  | { readonly label: string; readonly scores: Readonly<Record<string, number>> }
  | { readonly labels: readonly string[]; readonly scores: Readonly<Record<string, number>> };

export interface TextPrediction {
  /** Requested tasks only, by name. */
  readonly tasks: Readonly<Record<string, TaskPrediction>>;
  /** True when the text had more tokens than the model's maximum length and its end was cut. */
  readonly truncated: boolean;
}

export interface Classifier {
  readonly tasks: readonly TaskInfo[];
  /** Tokens per text the model reads, special tokens included. */
  readonly maxLength: number;
  /** Predictions for each text, in order; `tasks` defaults to all. Unknown task names throw UnknownTaskError (UNKNOWN_TASK). */
  classify(texts: readonly string[], tasks?: readonly string[]): Promise<TextPrediction[]>;
  release(): Promise<void>;
}

/** UNKNOWN_TASK: a requested task the model lacks; `details` holds the task and the model's tasks (`known`). */
export class UnknownTaskError extends XlmtError<'UNKNOWN_TASK'> {
  constructor(readonly task: string, readonly known: readonly string[]) {
    const hint = didYouMean(task, known);
    super({
      code: 'UNKNOWN_TASK',
      message: `unknown task ${JSON.stringify(task)}`,
      expected: oneOf(known),
      ...(hint === undefined ? {} : { hint }),
      details: { task, known: [...known] },
    });
    this.name = 'UnknownTaskError';
  }
}

/** The task names to answer, checked against the model's. */
export function selectTasks(all: readonly TaskInfo[], requested?: readonly string[]): TaskInfo[] {
  if (requested === undefined) return [...all];
  const byName = new Map(all.map((t) => [t.name, t]));
  return requested.map((name) => {
    const task = byName.get(name);
    if (!task) throw new UnknownTaskError(name, all.map((t) => t.name));
    return task;
  });
}

/** One text's prediction for one task from its probabilities. */
export function decide(task: TaskInfo, probs: ArrayLike<number>): TaskPrediction {
  const scores: Record<string, number> = {};
  task.labels.forEach((label, i) => { scores[label] = probs[i] as number; });
  if (task.type === 'multiclass') {
    let best = 0;
    for (let i = 1; i < task.labels.length; i++) if ((probs[i] as number) > (probs[best] as number)) best = i;
    return { label: task.labels[best] as string, scores };
  }
  const labels = task.labels.filter((_, i) => (probs[i] as number) >= (task.thresholds?.[i] ?? 0.5));
  return { labels, scores };
}

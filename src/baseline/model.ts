// A fitted baseline: the feature settings, the task schema and a head per task; it scores texts as
// probabilities per task and answers them as `xlmt predict` does (arg-max label, or labels at their thresholds).
import type { Task, TaskSchema } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { decide, type TaskInfo, type TextPrediction } from '../infer/types.ts';
import { FeatureHasher, type FeatureSettings } from './features.ts';
import type { FitReport, FitSettings, TaskHead } from './fit.ts';
import { linearScores, probabilities } from './objective.ts';
import { hashedCounts, type Csr } from './sparse.ts';
import { tfidfRows, vocabularyLookup } from './tfidf.ts';

export interface BaselineSettings {
  readonly features: FeatureSettings;
  readonly fit: FitSettings;
}

export interface BaselineTask {
  readonly task: Task;
  readonly head: TaskHead;
  /** Multilabel: one decision threshold per label (tuned on dev, else 0.5); null for multiclass. */
  readonly thresholds: readonly number[] | null;
  readonly report: FitReport;
}

export class BaselineModel {
  private readonly hasher: FeatureHasher;
  private readonly lookups = new Map<string, Int32Array>();

  constructor(
    readonly settings: BaselineSettings,
    readonly schema: TaskSchema,
    /** One per task of the schema, in its order. */
    readonly tasks: readonly BaselineTask[],
  ) {
    this.hasher = new FeatureHasher(settings.features);
    const names = tasks.map((t) => t.task.name).join(',');
    if (names !== schema.tasks.map((t) => t.name).join(',')) throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the heads do not match the schema\'s tasks', where: { api: 'BaselineModel' }, expected: schema.tasks.map((t) => t.name).join(','), received: names });
  }

  /** The tasks as inference describes them, with their thresholds. */
  get taskInfo(): TaskInfo[] {
    return this.tasks.map(({ task, thresholds }) => ({ name: task.name, type: task.type, labels: task.labels, ...(thresholds ? { thresholds } : {}) }));
  }

  /** The same model with other multilabel thresholds (task name → one per label); tasks not named keep theirs. */
  withThresholds(thresholds: Readonly<Record<string, readonly number[]>>): BaselineModel {
    const tasks = this.tasks.map((t) => (t.task.type === 'multilabel' && thresholds[t.task.name] ? { ...t, thresholds: thresholds[t.task.name]! } : t));
    return new BaselineModel(this.settings, this.schema, tasks);
  }

  /** Hashed n-gram counts of texts, the input of `score`; hash once, score every task. */
  counts(texts: Iterable<string>): Csr {
    return hashedCounts(texts, this.hasher);
  }

  /** Probabilities [rows, labels] of one task for every row of `counts`. */
  score(counts: Csr, taskName: string): Float32Array {
    const t = this.taskOf(taskName);
    return probabilities(this.features(counts, t), t.head.weights, t.head.bias, t.task.type);
  }

  /** Logits [rows, labels] of one task for every row of `counts`: what `score` turns into softmax rows or sigmoids. */
  logits(counts: Csr, taskName: string): Float32Array {
    const t = this.taskOf(taskName);
    return Float32Array.from(linearScores(this.features(counts, t), t.head.weights, t.head.bias));
  }

  /** TF-IDF rows of `counts` over a task's features. */
  private features(counts: Csr, t: BaselineTask): Csr {
    return tfidfRows(counts, Int32Array.from({ length: counts.rows }, (_, i) => i), t.head.vocab, this.lookup(t));
  }

  /** Predictions of the given tasks for each text, in `xlmt predict`'s form (never truncated: no length limit). */
  classify(texts: readonly string[], tasks: readonly TaskInfo[]): TextPrediction[] {
    const counts = this.counts(texts);
    const scores = tasks.map((info) => ({ info, probs: this.score(counts, info.name), width: info.labels.length }));
    return texts.map((_, i) => {
      const byTask: Record<string, ReturnType<typeof decide>> = {};
      for (const { info, probs, width } of scores) byTask[info.name] = decide(info, probs.subarray(i * width, (i + 1) * width));
      return { tasks: byTask, truncated: false };
    });
  }

  private taskOf(name: string): BaselineTask {
    const t = this.tasks.find((x) => x.task.name === name);
    if (!t) throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the model has no such task', where: { api: 'BaselineModel', task: name }, expected: this.tasks.map((x) => x.task.name).join(', ') });
    return t;
  }

  /** Bucket → feature index of a task, built on first use (2·buckets int32s). */
  private lookup(t: BaselineTask): Int32Array {
    let lookup = this.lookups.get(t.task.name);
    if (!lookup) {
      lookup = vocabularyLookup(t.head.vocab, 2 * this.settings.features.buckets);
      this.lookups.set(t.task.name, lookup);
    }
    return lookup;
  }
}

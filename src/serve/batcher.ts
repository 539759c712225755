// Dynamic batching across requests: texts from concurrent requests queue up and go through the classifier
// together, one forward pass at a time (the CPU is the bottleneck, so two at once would only share it).
//
// A batch closes when --max-batch-size texts are queued or the oldest has waited --max-wait-ms; while a
// forward pass runs, newcomers queue and form the next batch. A request is never split across batches, so
// all its texts are answered by the same model even across a reload; a request larger than the batch size
// runs alone (the classifier cuts it into forwards of its own batch size). The batch runs every task any of
// its requests asked for (the heads are tiny next to the encoder), and each request gets back its own texts,
// in order, with only its tasks.
import { performance } from 'node:perf_hooks';
import { XlmtError } from '../errors/index.ts';
import type { TextPrediction } from '../infer/types.ts';
import type { BatchingOptions } from './config.ts';
import { ServeError, toServeError } from './errors.ts';
import type { ModelInfo, ModelSlot } from './model-slot.ts';

export interface BatchAnswer {
  readonly predictions: TextPrediction[];
  readonly model: ModelInfo;
}

/** What the batcher reports as it goes (metrics, logs). */
export interface BatchEvents {
  queueDepth?(texts: number): void;
  batch?(event: { texts: number; requests: number; seconds: number }): void;
  failure?(error: unknown): void;
}

interface Job {
  readonly texts: readonly string[];
  readonly tasks: readonly string[] | undefined;
  readonly queuedAt: number;
  readonly resolve: (answer: BatchAnswer) => void;
  readonly reject: (error: unknown) => void;
}

export class Batcher {
  private readonly queue: Job[] = [];
  private queuedTexts = 0;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly drained: (() => void)[] = [];

  constructor(private readonly slot: ModelSlot, readonly options: BatchingOptions, private readonly events: BatchEvents = {}) {}

  /** False once close() was called. */
  get accepting(): boolean {
    return !this.closing;
  }

  /** Texts waiting for a forward pass. */
  get depth(): number {
    return this.queuedTexts;
  }

  /** Queues a request's texts; resolves with their predictions, in order, for `tasks` (default: all). */
  submit(texts: readonly string[], tasks?: readonly string[]): Promise<BatchAnswer> {
    if (this.closing) return Promise.reject(new ServeError('SHUTTING_DOWN', 'the server is shutting down; send the request to another instance'));
    if (!this.slot.ready) return Promise.reject(new ServeError('NOT_READY', 'the model is still loading; retry when /readyz answers 200'));
    const { maxQueue } = this.options;
    if (this.queuedTexts + texts.length > maxQueue) {
      return Promise.reject(new ServeError('QUEUE_FULL', `${this.queuedTexts} texts are already waiting (at most ${maxQueue}); retry shortly`, {
        queued: this.queuedTexts, maxQueue,
      }));
    }
    return new Promise<BatchAnswer>((resolve, reject) => {
      this.queue.push({ texts, tasks, queuedAt: performance.now(), resolve, reject });
      this.queuedTexts += texts.length;
      this.events.queueDepth?.(this.queuedTexts);
      this.schedule();
    });
  }

  /** Refuses new requests and resolves once every queued one has been answered. */
  close(): Promise<void> {
    this.closing = true;
    this.schedule();
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.running) return;
    const oldest = this.queue[0];
    if (!oldest) {
      for (const resolve of this.drained.splice(0)) resolve();
      return;
    }
    const waited = performance.now() - oldest.queuedAt;
    const full = this.queuedTexts >= this.options.maxBatchSize;
    if (full || this.closing || waited >= this.options.maxWaitMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.running = this.runBatch(this.take()).finally(() => {
        this.running = null;
        this.schedule();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.options.maxWaitMs - waited);
    }
  }

  /** Whole requests from the head of the queue, up to the batch size (at least one). */
  private take(): Job[] {
    const jobs: Job[] = [];
    let texts = 0;
    for (const job of this.queue) {
      if (jobs.length > 0 && texts + job.texts.length > this.options.maxBatchSize) break;
      jobs.push(job);
      texts += job.texts.length;
    }
    this.queue.splice(0, jobs.length);
    this.queuedTexts -= texts;
    this.events.queueDepth?.(this.queuedTexts);
    return jobs;
  }

  private async runBatch(jobs: readonly Job[]): Promise<void> {
    try {
      await this.slot.use(async ({ classifier, info }) => {
        // Tasks were checked against the model when the request came in; a reload may have changed them since.
        const known = classifier.tasks.map((t) => t.name);
        const runnable = jobs.filter((job) => {
          const unknown = job.tasks?.find((t) => !known.includes(t));
          if (unknown !== undefined) {
            job.reject(new ServeError('UNKNOWN_TASK', `unknown task ${JSON.stringify(unknown)}; this model has: ${known.join(', ')}`, { task: unknown, known }));
          }
          return unknown === undefined;
        });
        if (runnable.length === 0) return;
        const texts = runnable.flatMap((job) => job.texts);
        const started = performance.now();
        const predictions = await classifier.classify(texts, unionOfTasks(runnable, known));
        checkFinite(predictions);
        this.events.batch?.({ texts: texts.length, requests: runnable.length, seconds: (performance.now() - started) / 1000 });
        let at = 0;
        for (const job of runnable) {
          job.resolve({ predictions: predictions.slice(at, at + job.texts.length).map((p) => onlyTasks(p, job.tasks)), model: info });
          at += job.texts.length;
        }
      });
    } catch (e) {
      this.events.failure?.(e);
      const error = toServeError(e);
      for (const job of jobs) job.reject(error);
    }
  }
}

/**
 * Throws NON_FINITE for a NaN or infinite score: JSON has no such numbers, and serializing one would answer
 * `null` as if it were a score.
 */
function checkFinite(predictions: readonly TextPrediction[]): void {
  for (const [i, prediction] of predictions.entries()) {
    for (const [task, p] of Object.entries(prediction.tasks)) {
      const bad = Object.entries(p.scores).find(([, score]) => !Number.isFinite(score));
      if (bad) {
        throw new XlmtError({
          code: 'NON_FINITE', where: { task, field: `scores.${bad[0]}` }, message: `text ${i} of the batch got the score ${String(bad[1])}`,
          hint: 'the model\'s weights or its export are broken; check it with xlmt eval',
        });
      }
    }
  }
}

/** Every task some request asked for, in the model's order; undefined (all) when one asked for all. */
function unionOfTasks(jobs: readonly Job[], known: readonly string[]): string[] | undefined {
  if (jobs.some((job) => job.tasks === undefined)) return undefined;
  const wanted = new Set(jobs.flatMap((job) => job.tasks ?? []));
  return known.filter((t) => wanted.has(t));
}

function onlyTasks(prediction: TextPrediction, tasks: readonly string[] | undefined): TextPrediction {
  if (tasks === undefined) return prediction;
  const picked: TextPrediction['tasks'] = Object.fromEntries(tasks.flatMap((t) => {
    const p = prediction.tasks[t];
    return p ? [[t, p]] : [];
  }));
  return { tasks: picked, truncated: prediction.truncated };
}

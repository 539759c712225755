// What an online teacher costs a training step: the time of its forward pass per batch (tokenization included when
// it reads its own ids). A distillation step runs the teacher on the batch, then the student's step, whose graph
// holds the distillation loss. "Distilling with an online teacher adds at most the teacher's forward time to each
// step" is checked by comparing this figure with the step times with and without the teacher; where it is too
// much, a cached transfer set (teacher-cached.ts) pays the forward pass once. TeacherStepMeter takes the same
// figure inside a training run (xlmt train --teacher-model logs it at the end).
import { performance } from 'node:perf_hooks';
import { XlmtError } from '../../errors/index.ts';
import type { LogitsTeacher } from './teacher.ts';

export interface TeacherForwardCost {
  readonly texts: number;
  readonly batchSize: number;
  /** Batches timed (warm-up batches excluded). */
  readonly batches: number;
  /** Milliseconds per batch. */
  readonly meanMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly totalMs: number;
}

export interface ForwardCostOptions {
  readonly batchSize: number;
  /** Batches run first and not timed, so allocation and kernel selection are not counted (default 1). */
  readonly warmUp?: number;
}

/** Times `teacher.logits` on `texts` cut into batches of `batchSize`, in order, as a training loop feeds them. */
export async function measureTeacherForward(teacher: LogitsTeacher, texts: readonly string[], options: ForwardCostOptions): Promise<TeacherForwardCost> {
  const { batchSize } = options;
  const warmUp = options.warmUp ?? 1;
  if (!(Number.isInteger(batchSize) && batchSize > 0) || !(Number.isInteger(warmUp) && warmUp >= 0)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'measureTeacherForward' }, message: 'batch size and warm-up must be counts', expected: 'batchSize > 0, warmUp ≥ 0', received: `batchSize ${batchSize}, warmUp ${warmUp}` });
  }
  const batches: string[][] = [];
  for (let start = 0; start < texts.length; start += batchSize) batches.push(texts.slice(start, start + batchSize));
  for (const batch of batches.slice(0, warmUp)) await teacher.logits(batch);
  const times: number[] = [];
  for (const batch of batches) {
    const start = performance.now();
    await teacher.logits(batch);
    times.push(performance.now() - start);
  }
  return { texts: texts.length, batchSize, batches: times.length, ...timeStats(times) };
}

interface TimeStats {
  readonly meanMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly totalMs: number;
}

function timeStats(times: readonly number[]): TimeStats {
  const sorted = [...times].sort((a, b) => a - b);
  const totalMs = times.reduce((a, b) => a + b, 0);
  const middle = Math.floor(sorted.length / 2);
  const medianMs = sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { meanMs: times.length === 0 ? 0 : totalMs / times.length, medianMs, maxMs: sorted.at(-1) ?? 0, totalMs };
}

/** What online teachers added to a run's steps: their forward time per step beside the steps' own. */
export interface TeacherStepCost extends TimeStats {
  /** Steps taken by this invocation (a resumed run counts from where it resumed). */
  readonly steps: number;
  /** Mean wall time of a step, the teachers' forward passes included. */
  readonly meanStepMs: number;
}

/**
 * Times the teachers' forward passes as a training run plans its batches, and closes each step's account when the
 * step is taken: a step's teacher time is everything timed since the previous step (every micro-batch of it).
 */
export class TeacherStepMeter {
  private pendingMs = 0;
  private stepMs = 0;
  private readonly perStep: number[] = [];

  async time<T>(forward: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await forward();
    } finally {
      this.pendingMs += performance.now() - start;
    }
  }

  /** A step was taken; `seconds` is its wall time, planning (and so the teachers) included. */
  stepped(seconds: number): void {
    this.perStep.push(this.pendingMs);
    this.pendingMs = 0;
    this.stepMs += seconds * 1000;
  }

  /** null before the first step. */
  summary(): TeacherStepCost | null {
    const steps = this.perStep.length;
    return steps === 0 ? null : { steps, meanStepMs: this.stepMs / steps, ...timeStats(this.perStep) };
  }
}

/** The run's closing line on what its online teachers cost. */
export function describeStepCost(cost: TeacherStepCost): string {
  const share = cost.meanStepMs > 0 ? ` (${Math.round((100 * cost.meanMs) / cost.meanStepMs)} % of it)` : '';
  return `teacher forward: ${cost.meanMs.toFixed(1)} ms per step (median ${cost.medianMs.toFixed(1)}, max ${cost.maxMs.toFixed(1)}) over ${cost.steps} steps; `
    + `a step took ${cost.meanStepMs.toFixed(1)} ms with it${share}`;
}

// Learning-rate schedules as pure functions of the optimizer step, matching Hugging Face's transformers schedules.
import { badArgument, checkNumber } from './errors.ts';

/**
 * The learning rate for the update made after `step` updates (0 for the first update), as Hugging Face's LambdaLR
 * schedules count: with warmup, the first update therefore uses a learning rate of 0.
 */
export type Schedule = (step: number) => number;

export interface WarmupDecay {
  /** The peak learning rate, reached at the end of warmup. */
  readonly lr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

export interface CosineWarmupDecay extends WarmupDecay {
  /** Cosine waves over the decay phase; default 0.5 (from the peak down to 0 once). */
  readonly numCycles?: number;
}

export type ScheduleSpec =
  | { readonly kind: 'constant'; readonly lr: number }
  | ({ readonly kind: 'linear' } & WarmupDecay)
  | ({ readonly kind: 'cosine' } & CosineWarmupDecay);

export function constantSchedule(lr: number): Schedule {
  checkNumber('constantSchedule', 'lr', lr, 'a finite number >= 0', (v) => v >= 0);
  return (step) => {
    checkStep('constantSchedule', step);
    return lr;
  };
}

/** HF get_linear_schedule_with_warmup: 0 → lr over warmupSteps, then lr → 0 at totalSteps, 0 after. */
export function linearSchedule(options: WarmupDecay): Schedule {
  const { lr, warmupSteps, totalSteps } = options;
  checkWarmup('linearSchedule', options);
  return (step) => {
    checkStep('linearSchedule', step);
    if (step < warmupSteps) return (lr * step) / Math.max(1, warmupSteps);
    return lr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  };
}

/**
 * HF get_cosine_schedule_with_warmup: linear warmup, then lr · ½(1 + cos(π · numCycles · 2 · progress)), floored
 * at 0; equal to HF up to totalSteps, and constant after it.
 */
export function cosineSchedule(options: CosineWarmupDecay): Schedule {
  const { lr, warmupSteps, totalSteps } = options;
  const numCycles = options.numCycles ?? 0.5;
  checkWarmup('cosineSchedule', options);
  checkNumber('cosineSchedule', 'numCycles', numCycles, 'a finite number > 0', (v) => v > 0);
  return (step) => {
    checkStep('cosineSchedule', step);
    if (step < warmupSteps) return (lr * step) / Math.max(1, warmupSteps);
    // HF lets progress pass 1, where the cosine rises again; holding it at 1 keeps the final rate after training.
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

/** A schedule from configuration data (the training config names its schedule). */
export function makeSchedule(spec: ScheduleSpec): Schedule {
  switch (spec.kind) {
    case 'constant': return constantSchedule(spec.lr);
    case 'linear': return linearSchedule(spec);
    case 'cosine': return cosineSchedule(spec);
  }
}

function checkWarmup(where: string, { lr, warmupSteps, totalSteps }: WarmupDecay): void {
  checkNumber(where, 'lr', lr, 'a finite number >= 0', (v) => v >= 0);
  checkNumber(where, 'totalSteps', totalSteps, 'an integer > 0', (v) => Number.isInteger(v) && v > 0);
  checkNumber(where, 'warmupSteps', warmupSteps, 'an integer >= 0', (v) => Number.isInteger(v) && v >= 0);
  if (warmupSteps > totalSteps) {
    throw badArgument(where, 'warmup is longer than training', { expected: `warmupSteps <= totalSteps (${totalSteps})`, received: String(warmupSteps) });
  }
}

function checkStep(where: string, step: number): void {
  checkNumber(where, 'step', step, 'an integer >= 0', (v) => Number.isInteger(v) && v >= 0);
}

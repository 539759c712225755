// The optimization API: optimizers, learning-rate schedules, gradient clipping, accumulation and finiteness checks.
export type { Optimizer, OptimizerState } from './optimizer.ts';
export { stateKey } from './optimizer.ts';
export { AdamW, type AdamWOptions } from './adamw.ts';
export { SGD, type SGDOptions } from './sgd.ts';
export { decaysByDefault } from './decay.ts';
export {
  constantSchedule,
  cosineSchedule,
  linearSchedule,
  makeSchedule,
  type CosineWarmupDecay,
  type Schedule,
  type ScheduleSpec,
  type WarmupDecay,
} from './schedule.ts';
export { clipGradNorm, clipScale, globalGradNorm, type ClipResult } from './clip.ts';
export { GradientAccumulator, type AccumulatorOptions } from './accumulate.ts';
export { checkFinite, guardFinite, NonFiniteError, type NonFinite, type NonFinitePolicy } from './finite.ts';

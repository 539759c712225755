// The training loop's public API: the loop, the objective interface it takes, its events and the run progress.
export { runLoop, type LoopOutcome, type LoopSettings } from './loop.ts';
export type {
  Cursor,
  EpochEnd,
  Evaluation,
  ModelPoint,
  Objective,
  ObjectiveRun,
  ObjectiveState,
  PlanItem,
  PlannedStep,
  RunIdentity,
  RunSize,
  TakenStep,
} from './objective.ts';
export type { LoopEvents, LoopStart } from './events.ts';
export type { RunProgress } from './run-state.ts';

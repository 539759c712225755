// What a training loop (pretraining or task training) reports to its caller as it runs.

export interface LoopStart {
  readonly totalSteps: number;
  /** Steps already taken: more than 0 when a run resumes. */
  readonly startStep: number;
  readonly stepsPerEpoch: number;
}

export interface LoopEvents {
  log(line: string): void;
  onStart?(info: LoopStart): void;
}

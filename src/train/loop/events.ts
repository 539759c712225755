// What the training loop reports to its caller as it runs, whatever the objective (pretraining or task training).

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

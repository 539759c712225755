// What an objective supplies to the training loop (loop.ts): the training graph and the parameters it trains, the
// feeds of each planned step, the evaluation and what "best" means, and the model it writes. The loop owns the
// rest: run directory, fingerprint, resume, optimizer, metrics.jsonl, checkpoints, early stopping and progress.
//
// An objective's graph may take inputs that no dataset holds, fed per batch by `plan` (another model's outputs,
// say, computed in a session of its own while the batch is planned), and may train parameters that the model it
// writes leaves out (`params` against `ObjectiveRun.model`): checkpoints/last keeps them, so a resumed run has them.
import type { TrainingGraph } from '../../autodiff/training-graph.ts';
import type { XlmtError } from '../../errors/index.ts';
import type { Parameter, ParamStore } from '../../ir/params.ts';
import type { Feeds } from '../../runtime/session.ts';
import type { StepReport } from '../trainer.ts';
import type { RunProgress } from './run-state.ts';

/** What makes a run the same run across a resume: its settings (and data) as a fingerprint, and config.json. */
export interface RunIdentity<C> {
  /** The resolved configuration, written to config.json. */
  readonly config: C;
  /** config.json read back by this version's schema: settings added since a run began take their defaults. */
  parse(input: unknown, where: string): C;
  /** The settings a resumed run must share with the run it continues: not those that only change speed or output. */
  settings(config: C): Record<string, unknown>;
  /** A hash of data the settings do not pin down (the texts of a corpus file), when there is such data. */
  readonly data?: string;
  /** The refusal to resume with other settings; `before`: the run's config.json as this version reads it. */
  refusal(before: C | null, savedFingerprint: string, fingerprint: string): XlmtError;
}

/**
 * How long a run is and what a step is. 'epochs': the run ends at its last epoch's end, and a step is an optimizer
 * update (one skipped for a non-finite value does not count). 'steps': the run ends at its last step, and the step
 * count is the position in the data (every planned step counts, taken or not), which fixes the batches and masks
 * a resumed run draws.
 */
export interface RunSize {
  readonly unit: 'epochs' | 'steps';
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
}

/** Where a run stands between steps: the epoch being trained (from 0) and the index of its next batch. */
export interface Cursor {
  readonly epoch: number;
  readonly batch: number;
}

/** One step as the objective planned it; `B` is what the objective notes of its batch (examples, tokens). */
export interface PlannedStep<B> {
  readonly kind: 'step';
  /** The epoch the step's batches come from. */
  readonly epoch: number;
  /** Where the run stands once the step is taken: saved with it, and where a resumed run goes on. */
  readonly next: Cursor;
  /** The graph inputs of each micro-batch (one update averages them), or null when the batch has nothing to learn. */
  readonly feeds: readonly Feeds[] | null;
  /** Why `feeds` is null, for the log. */
  readonly empty?: string;
  readonly batch: B;
  /** The last step of a run sized in steps. */
  readonly last: boolean;
}

/** The end of an epoch, planned after its last step by runs sized in epochs: the loop checkpoints there. */
export interface EpochEnd {
  readonly kind: 'epoch-end';
  readonly epoch: number;
  /** The run's last epoch. */
  readonly last: boolean;
}

export type PlanItem<B> = PlannedStep<B> | EpochEnd;

/** A step the loop has counted. */
export interface TakenStep<B> {
  readonly planned: PlannedStep<B>;
  /** The optimizer's report; null when the step had no feeds. */
  readonly report: StepReport | null;
  /** The run's step count, this step included. */
  readonly step: number;
  readonly totalSteps: number;
  /** Wall time of the step, planning its batch included. */
  readonly seconds: number;
  /** The line to log about a step that changed no weight (no feeds, or a non-finite value skipped); else null. */
  readonly note: string | null;
}

export interface Evaluation<S> {
  /** Scores the model (ObjectiveRun.model); null when there is nothing to score. */
  run(model: ParamStore): Promise<S | null>;
  /** The fields of its metrics.jsonl line, after `type: 'eval'`. */
  metric(scores: S, progress: RunProgress): Record<string, unknown>;
  /**
   * What "best" means: the score to maximize. The model is written when its score is strictly better than every
   * earlier one (a tie keeps the earlier), and early stopping counts the evaluations since. Without it the latest
   * model is written at every model point.
   */
  score?(scores: S): number;
  /** What the score measures, for the early-stopping line ("dev macro-F1"). */
  readonly measures?: string;
  /** With it, a new run evaluates its starting weights before the first step and logs this line about them. */
  baseline?(scores: S): string;
}

/** A point where the model is evaluated and may be written: an epoch's end or a checkpoint (Objective.modelAt). */
export interface ModelPoint<S> {
  readonly progress: RunProgress;
  readonly totalSteps: number;
  /** The model as evaluated: ObjectiveRun.model(). */
  readonly model: ParamStore;
  /** null without an evaluation, or when it had nothing to score. */
  readonly scores: S | null;
  /** Write the model: it is the best so far, or the objective keeps its latest (as when nothing was scored). */
  readonly keep: boolean;
  /** The best score before this point; null at the first one and without a score. */
  readonly previousBest: number | null;
}

/** An objective with its data ready: what the loop calls as it trains. */
export interface ObjectiveRun<S, B> {
  /** The steps from `from` to the run's end, in order, each epoch's end after its steps in a run sized in epochs. */
  plan(from: RunProgress): AsyncIterable<PlanItem<B>>;
  /** Notes a step for the training metrics and reports it: logs its `note` and sends the objective's step event. */
  stepped(step: TakenStep<B>): void;
  /** The fields of the metrics.jsonl line (after `type: 'train'`) of the steps since the last call; null if none. */
  interval(progress: RunProgress): Record<string, unknown> | null;
  readonly evaluation: Evaluation<S> | null;
  /** The model as evaluated and written: the trained parameters, less those it drops or folds in. */
  model(): ParamStore;
  /** Writes the model when `point.keep`, and reports the point (the objective's evaluation or checkpoint event). */
  reached(point: ModelPoint<S>): Promise<void>;
  /** A line logged as the first step is about to be taken. */
  readonly banner?: string;
  /** Frees what `start` opened (inference sessions). */
  release(): Promise<void>;
}

/**
 * State an objective keeps outside the parameters that a resumed run must get back to end as an unbroken one does
 * (the activation ranges of quantization-aware training).
 */
export interface ObjectiveState {
  /** A JSON value, saved with every checkpoint. */
  save(): unknown;
  /** Takes back what save() returned, read from `file`; refuses (naming the file) what it cannot use. */
  restore(saved: unknown, file: string): void;
}

export interface Objective<C, S, B> {
  readonly identity: RunIdentity<C>;
  readonly size: RunSize;
  readonly training: TrainingGraph;
  /** Every trained parameter, all saved in checkpoints/last; the model written may hold fewer (ObjectiveRun.model). */
  readonly params: Map<string, Parameter>;
  /** What the objective keeps outside the parameters and saves in checkpoints/last beside them. */
  readonly state?: ObjectiveState;
  /** Where the model is evaluated and written: at each epoch's end, or at each checkpoint. */
  readonly modelAt: 'epoch-end' | 'checkpoint';
  /** Called again once the run has finished: says so, and leaves the model readable. */
  finished(progress: RunProgress): Promise<void>;
  /** Readies the data to train from `progress`: only once the run is known to go on, so a finished one costs nothing. */
  start(progress: RunProgress): Promise<ObjectiveRun<S, B>>;
}

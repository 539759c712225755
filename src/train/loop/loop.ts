// One training loop for every objective (objective.ts): claims the run directory, resumes or refuses to
// (resume.ts), steps the optimizer over the objective's plan, writes metrics.jsonl and checkpoints/last, evaluates
// and writes the model where the objective says, stops early, and reports progress. A killed run resumed from its
// checkpoint ends with the weights and metrics of an unbroken one.
//
// It lives in train/loop/ because training a graph is what train/ is about: the folder reads as "the loop" beside
// the task objective that is train/'s own (classification.ts), while other objectives live with their data and
// import it (pretrain/mlm-objective.ts; distillation in compress/). It imports nothing of any objective.
import { appendFileSync } from 'node:fs';
import { AdamW, makeSchedule, type NonFinitePolicy, type Optimizer, type Schedule } from '../../optim/index.ts';
import { TrainingSession } from '../../runtime/training-session.ts';
import { checkOutputDir, claimOutputDir, type OutputSpec } from '../../util/output-dir.ts';
import { type StepReport, Trainer } from '../trainer.ts';
import type { LoopEvents } from './events.ts';
import type { Objective, ObjectiveRun, PlannedStep, RunSize } from './objective.ts';
import { resumeOrBegin, type RunDir, runDir } from './resume.ts';
import { type RunProgress, saveRunState } from './run-state.ts';

/** Why a step changed no weight, or null when it did. */
function skipNote<B>(planned: PlannedStep<B>, report: StepReport | null, step: number): string | null {
  if (report === null) return `step ${step}: ${planned.empty ?? 'nothing to train on'}; skipped`;
  return report.skipped ? `step ${step}: skipped, ${report.skipped.what} is not finite` : null;
}

/** The settings the loop itself reads: optimizer, schedule, checkpoints, early stopping, threads. */
export interface LoopSettings {
  /** Peak learning rate. */
  readonly lr: number;
  readonly schedule: 'linear' | 'cosine' | 'constant';
  /** Share of all steps spent warming up. */
  readonly warmupRatio: number;
  readonly weightDecay: number;
  readonly adamEps: number;
  readonly maxGradNorm: number;
  readonly nonFinite: NonFinitePolicy;
  /** Seed of the dropout masks (and of whatever the objective draws from it). */
  readonly seed: number;
  /** Save checkpoints/last every this many steps (and at every epoch's end and the run's last step). */
  readonly checkpointEvery: number;
  /** Stop after this many evaluations without a better score; 0 or absent: never. */
  readonly patience?: number;
  /** ONNX Runtime threads. */
  readonly threads: number;
}

export interface LoopOutcome {
  readonly progress: RunProgress;
  /** The run had finished before this call, which changed nothing. */
  readonly finishedBefore: boolean;
  readonly stoppedEarly: boolean;
}

function schedule(settings: LoopSettings, totalSteps: number): Schedule {
  if (settings.schedule === 'constant') return makeSchedule({ kind: 'constant', lr: settings.lr });
  return makeSchedule({ kind: settings.schedule, lr: settings.lr, warmupSteps: Math.round(settings.warmupRatio * totalSteps), totalSteps });
}

/**
 * Trains `output`'s run with the objective `setup` builds: checks the directory first, so a bad --out fails before
 * any data is read, and claims it once the objective is ready, so a failed setup writes nothing.
 */
export async function runLoop<C, S, B>(output: OutputSpec, settings: LoopSettings, setup: () => Promise<Objective<C, S, B>>, events: LoopEvents): Promise<LoopOutcome> {
  checkOutputDir(output, 'write into');
  const objective = await setup();
  await claimOutputDir(output);
  const dir = runDir(output.path);
  const optimizer = new AdamW({ weightDecay: settings.weightDecay, eps: settings.adamEps });
  const progress = await resumeOrBegin(dir, objective, optimizer, events.log);
  if (progress.done) {
    await objective.finished(progress);
    return { progress, finishedBefore: true, stoppedEarly: false };
  }
  const run = await objective.start(progress);
  try {
    const session = await TrainingSession.create(objective.training, { threads: settings.threads });
    try {
      const trainer = new Trainer(session, objective.params, {
        optimizer,
        schedule: schedule(settings, objective.size.totalSteps),
        maxGradNorm: settings.maxGradNorm,
        nonFinite: settings.nonFinite,
        seed: settings.seed,
      });
      const loop = new Loop({ output, dir, settings, objective, run, trainer, optimizer, events }, progress);
      return await loop.train();
    } finally {
      await session.release();
    }
  } finally {
    await run.release();
  }
}

interface LoopParts<C, S, B> {
  readonly output: OutputSpec;
  readonly dir: RunDir;
  readonly settings: LoopSettings;
  readonly objective: Objective<C, S, B>;
  readonly run: ObjectiveRun<S, B>;
  readonly trainer: Trainer;
  readonly optimizer: Optimizer;
  readonly events: LoopEvents;
}

/** The loop's state between steps: the progress a checkpoint saves. */
class Loop<C, S, B> {
  private readonly size: RunSize;

  constructor(private readonly parts: LoopParts<C, S, B>, private progress: RunProgress) {
    this.size = parts.objective.size;
  }

  async train(): Promise<LoopOutcome> {
    const { run, events } = this.parts;
    const evaluation = run.evaluation;
    if (this.progress.step === 0 && evaluation?.baseline) {
      const scores = await evaluation.run(run.model());
      if (scores !== null) {
        this.metric({ type: 'eval', ...evaluation.metric(scores, this.progress) });
        events.log(evaluation.baseline(scores));
      }
    }
    if (run.banner) events.log(run.banner);
    events.onStart?.({ totalSteps: this.size.totalSteps, startStep: this.progress.step, stepsPerEpoch: this.size.stepsPerEpoch });
    const plan = run.plan(this.progress)[Symbol.asyncIterator]();
    let stoppedEarly = false;
    while (!stoppedEarly) {
      const started = performance.now();
      const next = await plan.next();
      if (next.done) break;
      const item = next.value;
      if (item.kind === 'step') {
        stoppedEarly = await this.step(item, started);
      } else {
        this.progress = { ...this.progress, epoch: item.epoch + 1, batch: 0 };
        stoppedEarly = this.parts.objective.modelAt === 'epoch-end' && (await this.modelPoint(item.last));
        this.progress = { ...this.progress, done: stoppedEarly || item.last };
        await this.checkpoint(item.last);
      }
      if (stoppedEarly) events.log(this.stopLine());
    }
    await plan.return?.();
    return { progress: this.progress, finishedBefore: false, stoppedEarly };
  }

  /** Takes one planned step; true when the run stops early at the checkpoint that follows it. */
  private async step(planned: PlannedStep<B>, started: number): Promise<boolean> {
    const { trainer, run, settings } = this.parts;
    const report = planned.feeds ? await trainer.step(planned.feeds) : null;
    const step = this.size.unit === 'steps' ? this.progress.step + 1 : trainer.stepCount;
    this.progress = { ...this.progress, epoch: planned.next.epoch, batch: planned.next.batch, step };
    const seconds = (performance.now() - started) / 1000;
    run.stepped({ planned, report, step, totalSteps: this.size.totalSteps, seconds, note: skipNote(planned, report, step) });
    if (planned.last) this.progress = { ...this.progress, done: true };
    if (step % settings.checkpointEvery === 0 || planned.last) return this.checkpoint(planned.last);
    return false;
  }

  /** Saves the training metrics since the last checkpoint and the resumable state; true when the run stops early. */
  private async checkpoint(last: boolean): Promise<boolean> {
    const { run, objective, dir, optimizer, output } = this.parts;
    const interval = run.interval(this.progress);
    if (interval) this.metric({ type: 'train', ...interval });
    const stop = objective.modelAt === 'checkpoint' && (await this.modelPoint(last));
    if (stop) this.progress = { ...this.progress, done: true };
    await saveRunState(dir.last, objective.params, optimizer.state(), this.progress, output.command, objective.state?.save());
    return stop;
  }

  /** Evaluates the model, has the best (or latest) written, and says whether to stop early (never at the last point). */
  private async modelPoint(last: boolean): Promise<boolean> {
    const { run, settings } = this.parts;
    const evaluation = run.evaluation;
    const model = run.model();
    const scores = evaluation ? await evaluation.run(model) : null;
    const previousBest = this.progress.best?.score ?? null;
    let keep = true;
    if (scores !== null && evaluation?.score) {
      const score = evaluation.score(scores);
      keep = previousBest === null || score > previousBest;
      this.progress = keep ? { ...this.progress, best: { score, epoch: this.progress.epoch }, stale: 0 } : { ...this.progress, stale: this.progress.stale + 1 };
    }
    if (scores !== null && evaluation) this.metric({ type: 'eval', ...evaluation.metric(scores, this.progress) });
    await run.reached({ progress: this.progress, totalSteps: this.size.totalSteps, model, scores, keep, previousBest });
    const patience = settings.patience ?? 0;
    return evaluation?.score !== undefined && patience > 0 && this.progress.stale >= patience && !last;
  }

  private stopLine(): string {
    const what = this.parts.run.evaluation?.measures ?? 'score';
    const points = this.parts.objective.modelAt === 'epoch-end' ? 'epochs' : 'checkpoints';
    return `stopping early: no better ${what} for ${this.progress.stale} ${points}`;
  }

  /** Appends a line to metrics.jsonl; the progress counts it, so a resumed run drops lines written after its checkpoint. */
  private metric(line: Record<string, unknown>): void {
    appendFileSync(this.parts.dir.metrics, `${JSON.stringify(line)}\n`);
    this.progress = { ...this.progress, metricsLines: this.progress.metricsLines + 1 };
  }
}

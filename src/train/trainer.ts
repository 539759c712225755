// One optimizer step over one or more micro-batches: run, accumulate, guard, clip, update.
import { XlmtError } from '../errors/index.ts';
import type { ParamStore } from '../ir/params.ts';
import type { Gradients } from '../ir/params.ts';
import { clipScale, globalGradNorm, GradientAccumulator, guardFinite, type NonFinite, type NonFinitePolicy, type Optimizer, type Schedule } from '../optim/index.ts';
import { bindSymbols } from '../ir/shape.ts';
import { dropoutInputs, dropoutMasks } from '../models/dropout.ts';
import type { Feeds, Results } from '../runtime/session.ts';
import type { TrainingSession } from '../runtime/training-session.ts';

export interface TrainerOptions {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  /** Clip the global gradient norm to this value; none by default. */
  readonly maxGradNorm?: number;
  /** 'error' (default) stops at a non-finite loss or gradient; 'skip' drops that update and goes on. */
  readonly nonFinite?: NonFinitePolicy;
  /** Seed of the dropout masks: step k of a run draws the same masks whether or not the run was resumed. */
  readonly seed?: number;
}

export interface StepReport {
  /** Optimizer steps taken so far, this one included unless skipped. */
  readonly step: number;
  /** Mean loss over the micro-batches. */
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  readonly lr: number;
  /** What was non-finite, when the update was skipped. */
  readonly skipped: NonFinite | null;
  /** The training graph's extra forward outputs, one set per micro-batch. */
  readonly outputs: readonly Results[];
}

export class Trainer {
  private readonly accumulator = new GradientAccumulator({ reduction: 'mean' });

  constructor(
    private readonly session: TrainingSession,
    readonly params: ParamStore,
    private readonly options: TrainerOptions,
  ) {}

  get stepCount(): number {
    return this.options.optimizer.stepCount;
  }

  /** The optimizer, whose state a checkpoint saves. */
  get optimizer(): Optimizer {
    return this.options.optimizer;
  }

  /**
   * One optimizer step. Several micro-batches are averaged (gradient accumulation); each must carry the same
   * number of examples for the mean to equal one large batch's.
   */
  async step(microBatches: Feeds | readonly Feeds[]): Promise<StepReport> {
    const batches = Array.isArray(microBatches) ? (microBatches as readonly Feeds[]) : [microBatches as Feeds];
    if (batches.length === 0) throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'no micro-batch to step on', where: { api: 'Trainer.step' }, expected: 'at least one micro-batch' });
    let loss = 0;
    let grads: Gradients;
    const outputs: Results[] = [];
    if (batches.length === 1) {
      const result = await this.session.step(this.withMasks(batches[0] as Feeds, 0, 1), this.params);
      loss = result.loss;
      grads = result.gradients;
      outputs.push(result.outputs);
    } else {
      this.accumulator.reset();
      for (const [i, batch] of batches.entries()) {
        const result = await this.session.step(this.withMasks(batch, i, batches.length), this.params);
        loss += result.loss / batches.length;
        this.accumulator.add(result.gradients);
        outputs.push(result.outputs);
      }
      grads = this.accumulator.result();
    }
    const step = this.options.optimizer.stepCount;
    const lr = this.options.schedule(step);
    // Checked before anything is changed: a non-finite step never reaches the parameters (or a checkpoint). A
    // finite norm proves every gradient finite (see globalGradNorm), so the full scan runs only when it is not.
    const norm = globalGradNorm(grads);
    const skipped = Number.isFinite(loss) && Number.isFinite(norm) ? null : guardFinite(this.options.nonFinite ?? 'error', step, loss, grads);
    if (skipped) return { step, loss, gradNorm: Number.NaN, lr, skipped, outputs };
    // Clipping is a factor the optimizer applies as it reads each gradient, not a pass that rewrites them.
    const scale = this.options.maxGradNorm === undefined ? 1 : clipScale(norm, this.options.maxGradNorm, 'Trainer.step');
    this.options.optimizer.step(this.params, grads, lr, scale);
    return { step: this.options.optimizer.stepCount, loss, gradNorm: norm, lr, skipped: null, outputs };
  }

  /** The batch plus this micro-batch's dropout masks, sized from the batch's own tensors. */
  private withMasks(batch: Feeds, micro: number, micros: number): Feeds {
    const graph = this.session.training.graph;
    if (dropoutInputs(graph).length === 0) return batch;
    const sizes = bindSymbols(graph.inputs.flatMap((v) => {
      const t = batch[v.name];
      return t ? [{ name: v.name, shape: v.shape, concrete: t.shape }] : [];
    }));
    const draw = this.options.optimizer.stepCount * micros + micro;
    return { ...batch, ...dropoutMasks(graph, sizes, this.options.seed ?? 0, draw) };
  }
}

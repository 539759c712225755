// AdamW (Loshchilov & Hutter, decoupled weight decay) with torch.optim.AdamW's update, plus lazy row updates.
import type { Gradients, ParamStore } from '../ir/params.ts';
import { decaysByDefault } from './decay.ts';
import { checkNumber } from './errors.ts';
import type { Optimizer, OptimizerState } from './optimizer.ts';
import { checkLearningRate, planUpdates } from './plan.ts';
import { sumRow } from './rows.ts';
import { SlotBuffers } from './slots.ts';

export interface AdamWOptions {
  /** Default [0.9, 0.999]. */
  readonly betas?: readonly [number, number];
  /** Default 1e-8, as torch and Hugging Face; the original BERT used 1e-6, a common choice for BERT fine-tuning. */
  readonly eps?: number;
  /** Default 0.01, scaled by the learning rate as in torch (p -= lr * weightDecay * p). */
  readonly weightDecay?: number;
  /** Whether a parameter receives weight decay, by name. Default: all but biases and LayerNorm weights. */
  readonly decay?: (name: string) => boolean;
}

/**
 * Per step t (global: one per call of `step`, shared by all parameters), for each parameter with a gradient g:
 *   p -= lr * weightDecay * p                         (when `decay(name)`)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * Row gradients get a lazy update, as torch's SparseAdam and TF's LazyAdam: duplicate indices are summed first,
 * then m, v, p (and weight decay) change only on the rows used. Rows not used keep their moments instead of
 * decaying them, which is what makes a 250k-row embedding table affordable to train; for a row used every step it
 * is exactly the dense update.
 */
export class AdamW implements Optimizer {
  readonly kind = 'adamw';
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decay: (name: string) => boolean;
  private readonly slots = new SlotBuffers('AdamW', ['exp_avg', 'exp_avg_sq']);
  private t = 0;

  constructor(options: AdamWOptions = {}) {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const inUnit = (v: number): boolean => v >= 0 && v < 1;
    checkNumber('AdamW', 'betas[0]', beta1, 'a number in [0, 1)', inUnit);
    checkNumber('AdamW', 'betas[1]', beta2, 'a number in [0, 1)', inUnit);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = options.eps ?? 1e-8;
    checkNumber('AdamW', 'eps', this.eps, 'a number > 0', (v) => v > 0);
    this.weightDecay = options.weightDecay ?? 0.01;
    checkNumber('AdamW', 'weightDecay', this.weightDecay, 'a number >= 0', (v) => v >= 0);
    this.decay = options.decay ?? decaysByDefault;
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: ParamStore, grads: Gradients, lr: number, gradScale = 1): void {
    checkLearningRate('AdamW.step', lr);
    checkNumber('AdamW.step', 'gradScale', gradScale, 'a finite number > 0', (v) => v > 0 && Number.isFinite(v));
    const plan = planUpdates(params, grads, 'AdamW.step');
    this.t += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const correction2 = Math.sqrt(1 - b2 ** this.t);
    // m / (sqrt(v) / c + eps) = c·m / (sqrt(v) + c·eps): torch's update with the division by c taken out of the
    // loop (with the clip factor, 114-119 -> 92-96 ms for the dense update of 21.5M values; docs/results.md).
    const eps = this.eps * correction2;
    const stepSize = (lr / (1 - b1 ** this.t)) * correction2;

    for (const update of plan) {
      const p = update.param.data;
      const m = this.slots.get('exp_avg', update.param);
      const v = this.slots.get('exp_avg_sq', update.param);
      const keep = this.decay(update.param.name) ? 1 - lr * this.weightDecay : 1;

      if (update.kind === 'dense') {
        const g = update.grad;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]! * gradScale;
          const mi = b1 * m[i]! + c1 * gi;
          const vi = b2 * v[i]! + c2 * gi * gi;
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i]! * keep - (stepSize * mi) / (Math.sqrt(vi) + eps);
        }
        continue;
      }

      const { width, groups, values } = update;
      const g = new Float64Array(width);
      for (let u = 0; u < groups.rows.length; u++) {
        sumRow(values, width, groups, u, g);
        const base = groups.rows[u]! * width;
        for (let j = 0; j < width; j++) {
          const i = base + j;
          const gi = g[j]! * gradScale;
          const mi = b1 * m[i]! + c1 * gi;
          const vi = b2 * v[i]! + c2 * gi * gi;
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i]! * keep - (stepSize * mi) / (Math.sqrt(vi) + eps);
        }
      }
    }
  }

  state(): OptimizerState {
    return { kind: this.kind, step: this.t, buffers: this.slots.snapshot() };
  }

  loadState(state: OptimizerState, params: ParamStore): void {
    this.t = this.slots.load(state, params, this.kind);
  }
}

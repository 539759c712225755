// SGD with momentum, torch.optim.SGD's update (dampening 0, optional Nesterov, coupled weight decay), lazy on rows.
import type { Gradients, ParamStore } from '../ir/params.ts';
import { decaysByDefault } from './decay.ts';
import { badArgument, checkNumber } from './errors.ts';
import type { Optimizer, OptimizerState } from './optimizer.ts';
import { checkLearningRate, planUpdates } from './plan.ts';
import { sumRow } from './rows.ts';
import { SlotBuffers } from './slots.ts';

export interface SGDOptions {
  /** Default 0 (plain SGD, no state). */
  readonly momentum?: number;
  /** Default false; needs momentum > 0, as in torch. */
  readonly nesterov?: boolean;
  /** Default 0. Coupled as in torch: added to the gradient (g += weightDecay * p), so momentum carries it. */
  readonly weightDecay?: number;
  /**
   * Whether a parameter receives weight decay, by name. Default: all but biases and LayerNorm weights, the same
   * rule as AdamW (torch decays every parameter unless given parameter groups).
   */
  readonly decay?: (name: string) => boolean;
}

/**
 * Per step, for each parameter with a gradient g:
 *   d = g + weightDecay * p;  buf = momentum * buf + d  (buf = d on its first step, the same thing from zeros)
 *   p -= lr * (nesterov ? d + momentum * buf : buf)
 * Row gradients (duplicates summed) update p and buf on the rows used only; unused rows keep their momentum
 * buffer as it was instead of decaying it, as AdamW's lazy rows do.
 */
export class SGD implements Optimizer {
  readonly kind = 'sgd';
  private readonly momentum: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private readonly decay: (name: string) => boolean;
  private readonly slots = new SlotBuffers('SGD', ['momentum_buffer']);
  private t = 0;

  constructor(options: SGDOptions = {}) {
    this.momentum = options.momentum ?? 0;
    checkNumber('SGD', 'momentum', this.momentum, 'a number >= 0', (v) => v >= 0);
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && this.momentum === 0) {
      throw badArgument('SGD', 'Nesterov momentum needs a momentum', { expected: 'momentum > 0', received: '0' });
    }
    this.weightDecay = options.weightDecay ?? 0;
    checkNumber('SGD', 'weightDecay', this.weightDecay, 'a number >= 0', (v) => v >= 0);
    this.decay = options.decay ?? decaysByDefault;
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: ParamStore, grads: Gradients, lr: number, gradScale = 1): void {
    checkLearningRate('SGD.step', lr);
    checkNumber('SGD.step', 'gradScale', gradScale, 'a finite number > 0', (v) => v > 0 && Number.isFinite(v));
    const plan = planUpdates(params, grads, 'SGD.step');
    this.t += 1;
    const mu = this.momentum;
    const nesterov = this.nesterov;

    for (const update of plan) {
      const p = update.param.data;
      const wd = this.decay(update.param.name) ? this.weightDecay : 0;
      // Plain SGD keeps no buffer: a zero-length one makes the loops below skip momentum.
      const buf = mu > 0 ? this.slots.get('momentum_buffer', update.param) : new Float32Array(0);

      if (update.kind === 'dense') {
        const g = update.grad;
        for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * direction(g[i]! * gradScale, p[i]!, wd, mu, nesterov, buf, i);
        continue;
      }

      const { width, groups, values } = update;
      const g = new Float64Array(width);
      for (let u = 0; u < groups.rows.length; u++) {
        sumRow(values, width, groups, u, g);
        const base = groups.rows[u]! * width;
        for (let j = 0; j < width; j++) {
          const i = base + j;
          p[i] = p[i]! - lr * direction(g[j]! * gradScale, p[i]!, wd, mu, nesterov, buf, i);
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

/** One element's step direction, shared by the dense and row loops; updates the momentum buffer in place. */
function direction(g: number, p: number, wd: number, mu: number, nesterov: boolean, buf: Float32Array, i: number): number {
  const d = g + wd * p;
  if (buf.length === 0) return d;
  const b = mu * buf[i]! + d;
  buf[i] = b;
  return nesterov ? d + mu * b : b;
}

// The contract every optimizer meets, and the plain-data state it saves to and restores from checkpoints.
import type { Gradients, ParamStore } from '../ir/params.ts';

/**
 * Everything an optimizer needs to continue exactly where it stopped: the steps taken and its per-parameter
 * buffers. Buffers are keyed `${slot}/${parameter}` (for example `exp_avg/bert.pooler.dense.weight`), with slot
 * names as torch spells them; a parameter appears only once it has received a gradient, as in torch.
 */
export interface OptimizerState {
  readonly kind: string;
  readonly step: number;
  readonly buffers: ReadonlyMap<string, Float32Array>;
}

export interface Optimizer {
  readonly kind: string;
  /** Optimizer steps taken so far (AdamW's bias-correction t). */
  readonly stepCount: number;
  /**
   * Updates the parameters that have a gradient, in place; the others are untouched. Every gradient is validated
   * before any parameter changes, so a step that throws leaves parameters and state as they were.
   * `gradScale` (default 1) multiplies every gradient as it is read: clipping to a maximum norm (`clipScale`)
   * without a pass that rewrites the gradients.
   */
  step(params: ParamStore, grads: Gradients, lr: number, gradScale?: number): void;
  /** A copy of the state: later steps do not change it. */
  state(): OptimizerState;
  /**
   * Replaces the state with a copy of `state`, checked against `params` (the store that later steps update):
   * every buffer must name a known slot and parameter and have that parameter's size.
   */
  loadState(state: OptimizerState, params: ParamStore): void;
}

export function stateKey(slot: string, param: string): string {
  return `${slot}/${param}`;
}

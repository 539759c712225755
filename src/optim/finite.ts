// Detecting NaN and infinity in a step's loss and gradients, and the error that stops training on them.
import type { Gradients } from '../ir/params.ts';
import { OptimError } from './errors.ts';

export interface NonFinite {
  /** 'loss', or the name of the parameter whose gradient holds the value. */
  readonly what: string;
  /** Position in the gradient's data (for row gradients, in `values`); 0 for the loss. */
  readonly index: number;
  readonly value: number;
}

/** What to do with a non-finite step: throw NonFiniteError, or report it so the caller skips the update. */
export type NonFinitePolicy = 'error' | 'skip';

/** The first non-finite value, checking the loss, then gradients in order; null when all are finite. */
export function checkFinite(loss: number, grads: Gradients): NonFinite | null {
  if (!Number.isFinite(loss)) return { what: 'loss', index: 0, value: loss };
  for (const [name, grad] of grads) {
    const data = grad.kind === 'dense' ? grad.data : grad.values;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) return { what: name, index: i, value: data[i]! };
    }
  }
  return null;
}

export class NonFiniteError extends OptimError {
  readonly what: string;
  readonly index: number;
  readonly value: number;
  readonly step: number;

  constructor(found: NonFinite, step: number) {
    const subject = found.what === 'loss' ? 'the loss' : `the gradient of "${found.what}" at index ${found.index}`;
    super({
      code: 'NON_FINITE',
      where: `training step ${step}`,
      problem: `${subject} is ${found.value}`,
      ...(found.what === 'loss' ? {} : { param: found.what }),
      hint:
        'Lower the learning rate, enable gradient clipping (clipGradNorm), ' +
        "or set the non-finite policy to 'skip' to drop such steps",
    });
    this.name = 'NonFiniteError';
    this.what = found.what;
    this.index = found.index;
    this.value = found.value;
    this.step = step;
  }
}

/**
 * Applies `policy` to a step: returns null when the step is finite and may be applied; under 'skip' returns what
 * was found (the caller skips the update and logs it); under 'error' throws NonFiniteError.
 */
export function guardFinite(policy: NonFinitePolicy, step: number, loss: number, grads: Gradients): NonFinite | null {
  const found = checkFinite(loss, grads);
  if (found !== null && policy === 'error') throw new NonFiniteError(found, step);
  return found;
}

// Detecting NaN and infinity in a step's loss and gradients, and the error that stops training on them.
import { XlmtError } from '../errors/index.ts';
import type { Gradients } from '../ir/params.ts';

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

/**
 * A non-finite loss or gradient that stops training (code NON_FINITE): `where.tensor` names the parameter whose
 * gradient holds it; `details` hold the step, the position and the value (as text: JSON has no NaN).
 */
export class NonFiniteError extends XlmtError<'NON_FINITE'> {
  readonly what: string;
  readonly index: number;
  readonly value: number;
  readonly step: number;

  constructor(found: NonFinite, step: number) {
    const isLoss = found.what === 'loss';
    super({
      code: 'NON_FINITE',
      message: isLoss ? `step ${step}: the loss is ${found.value}` : `step ${step}: the gradient is ${found.value} at index ${found.index}`,
      ...(isLoss ? {} : { where: { tensor: found.what } }),
      details: { step, what: found.what, index: found.index, value: String(found.value) },
      hint: 'Lower the learning rate, enable gradient clipping (clipGradNorm), or set the non-finite policy to \'skip\' to drop such steps',
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

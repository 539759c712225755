// The global L2 norm of all gradients, and clipping them to a maximum norm in place (torch clip_grad_norm_).
import type { Gradient, Gradients } from '../ir/params.ts';
import { checkNumber } from './errors.ts';
import { groupRows, rowWidth, sumRow } from './rows.ts';

export interface ClipResult {
  /** The norm before clipping. */
  readonly norm: number;
  /** The factor every gradient was multiplied by: 1 when nothing was clipped. */
  readonly scale: number;
}

/**
 * sqrt of the sum of squares of every gradient value, accumulated in float64. A row gradient contributes the norm
 * of its rows after duplicate indices are summed: that is the norm of the dense gradient it stands for (a row used
 * twice contributes (a + b)², not a² + b²), so clipping does not depend on how the gradient is stored.
 *
 * A finite norm also proves every gradient is finite (float32 squares cannot overflow float64), so a training loop
 * can run `checkFinite` only when the norm is not finite.
 */
export function globalGradNorm(grads: Gradients): number {
  let sumSquares = 0;
  for (const [name, grad] of grads) sumSquares += squaredNorm(name, grad);
  return Math.sqrt(sumSquares);
}

/**
 * Scales every gradient in place by maxNorm / (norm + 1e-6) when the norm exceeds maxNorm (the 1e-6 is torch's);
 * `norm` is the gradients' global norm, given when the caller has it already.
 * A non-finite norm scales nothing (scaling would turn every gradient into NaN): check it with `checkFinite`.
 */
export function clipGradNorm(grads: Gradients, maxNorm: number, norm = globalGradNorm(grads)): ClipResult {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, 'a finite number > 0', (v) => v > 0);
  if (!Number.isFinite(norm) || norm <= maxNorm) return { norm, scale: 1 };
  const scale = maxNorm / (norm + 1e-6);
  for (const grad of grads.values()) {
    // Scaling every stored row scales their sums alike, so row gradients need no grouping here.
    const data = grad.kind === 'dense' ? grad.data : grad.values;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale;
  }
  return { norm, scale };
}

function squaredNorm(name: string, grad: Gradient): number {
  let sum = 0;
  if (grad.kind === 'dense') {
    const data = grad.data;
    for (let i = 0; i < data.length; i++) sum += data[i]! * data[i]!;
    return sum;
  }
  const width = rowWidth(grad.indices, grad.values, 'globalGradNorm', name);
  // The table's row count is not known here; only the sign of indices can be checked.
  const groups = groupRows(grad.indices, Number.MAX_SAFE_INTEGER, 'globalGradNorm', name);
  const row = new Float64Array(width);
  for (let u = 0; u < groups.rows.length; u++) {
    sumRow(grad.values, width, groups, u, row);
    for (let j = 0; j < width; j++) sum += row[j]! * row[j]!;
  }
  return sum;
}

// Logits from probabilities and back. An export gives probabilities (probs:<task>), a teacher file too; the losses
// want logits. For a softmax task, log p is the logits up to a constant per row, which softmax (and so the KL term)
// does not see; for a sigmoid task, logit(p) = log p − log(1 − p) is the logit itself, while p is not saturated.
import type { TaskType } from '../../data/index.ts';

/** The smallest normal float32: a probability that underflowed to 0 comes back as log ≈ −87.3. */
const FLOOR = 2 ** -126;
/**
 * float32 rounds sigmoid(z) to exactly 1 once z exceeds about 16.6, so the largest logit an export can tell apart
 * is about that; a probability of 1 comes back as logit(1 − 2⁻²⁵) ≈ 17.3, just beyond every value it can give.
 */
const CEILING = 1 - 2 ** -25;

/** Logits [rows, width] from probabilities [rows, width]: log p (multiclass) or logit(p) (multilabel), clamped. */
export function logitsFromProbabilities(type: TaskType, probs: ArrayLike<number>): Float32Array {
  const out = new Float32Array(probs.length);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (type === 'multiclass') {
      out[i] = Math.log(Math.max(p, FLOOR));
    } else {
      const clamped = Math.min(Math.max(p, FLOOR), CEILING);
      out[i] = Math.log(clamped) - Math.log1p(-clamped);
    }
  }
  return out;
}

/** Probabilities [rows, width] from logits: softmax per row (multiclass) or sigmoid per value (multilabel). */
export function probabilitiesFromLogits(type: TaskType, logits: ArrayLike<number>, width: number): Float32Array {
  const out = new Float32Array(logits.length);
  if (type === 'multilabel') {
    for (let i = 0; i < logits.length; i++) out[i] = 1 / (1 + Math.exp(-(logits[i] as number)));
    return out;
  }
  for (let start = 0; start < logits.length; start += width) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, logits[start + j] as number);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += Math.exp((logits[start + j] as number) - max);
    for (let j = 0; j < width; j++) out[start + j] = Math.exp((logits[start + j] as number) - max) / sum;
  }
  return out;
}

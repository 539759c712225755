// Symmetric int8 fake quantization for training graphs: the forward pass computes y = clip(round(x/s), −127, 127)·s,
// what an int8 kernel with scale s would see; the backward pass is the straight-through estimator (gradient passes
// where |x/s| ≤ 127, 0 outside) and, for a learned step s, LSQ's gradient (Esser et al. 2020).
//
// The ONNX form is elementwise (Div, Clip, Round, Mul), not QuantizeLinear/DequantizeLinear pairs:
// - autodiff passes no gradient through an int8 tensor (QuantizeLinear's output), and the estimator needs the mask
//   of the clipping range, which Clip's gradient rule gives;
// - QuantizeLinear saturates int8 at −128; the symmetric range of the int8 export stops at −127 (export/int8.ts);
// - the elementwise ops have float64 kernels in ONNX Runtime's CPU provider, so the gradient checks run in double.
// Exporting a trained model to QuantizeLinear/DequantizeLinear with these scales is the export's business.
//
// The estimator is a composite, not a gradient rule: with c = clip(x/s) and r = stopGradient(round(c)),
//   y = (r + (c − stopGradient(c)))·s.
// c − stopGradient(c) is exactly 0 in the forward pass, so y is round(clip(x/s))·s bit for bit (but for −0 coming out
// as +0); in the backward pass
// it carries c's gradient, so dy/dx = 1 inside the range and 0 outside (Clip's rule), and
// dy/ds = r − x/s inside and ±127 outside: LSQ's step-size gradient, from the rules of Div, Clip, Add and Mul.
import { XlmtError } from '../../errors/index.ts';
import type { GraphBuilder } from '../../builder/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { broadcastShapes, formatShape, normalizeAxis } from '../../ir/shape.ts';

/** The largest int8 code of the symmetric range: codes run from −127 to 127 (export/int8.ts). */
export const INT8_MAX = 127;

export interface FakeQuantOptions {
  /**
   * One scale per index of this axis (per output channel): `scale` is then [x.shape[axis]]. Without it, `scale`
   * broadcasts against x: [] for one scale per tensor, or any shape with kept dims ([rows, 1] for one per row).
   */
  readonly axis?: number;
  /**
   * The largest code: codes run from −maxCode to maxCode. Default 127 (int8); 63 for 7-bit weights, the range int8
   * kernels without VNNI compute exactly (export/cpu-features.ts).
   */
  readonly maxCode?: number;
}

/** y = clip(round(x/s), −127, 127)·s, with the straight-through gradient for x and LSQ's for s (see above). */
export function fakeQuantize(g: GraphBuilder, x: Value, scale: Value, options: FakeQuantOptions = {}): Value {
  const { op } = g;
  const s = options.axis === undefined ? broadcastingScale(x, scale) : channelScale(g, x, scale, options.axis);
  const maxCode = options.maxCode ?? INT8_MAX;
  const clipped = op.Clip(op.Div(x, s), -maxCode, maxCode);
  const codes = g.stopGradient(op.Round(clipped));
  const straightThrough = op.Add(codes, op.Sub(clipped, g.stopGradient(clipped))); // = codes, with clipped's gradient
  return op.Mul(straightThrough, s);
}

/**
 * The scale of a range: range/127 (range/maxCode), and 1 where the range is 0 (an all-zero tensor or channel has
 * codes 0 either way, and x/s must not divide by 0). export/int8.ts quantizeWeight picks the same.
 */
export function scaleOfRange(g: GraphBuilder, range: Value, maxCode = INT8_MAX): Value {
  const { op } = g;
  return op.Where(op.Greater(range, 0), op.Div(range, maxCode), 1);
}

/**
 * max|x|/127 (max|x|/maxCode) for the whole tensor ([]) or per index of `axis` ([x.shape[axis]]): the scale of a
 * weight. A constant for autodiff, as in Q8BERT: the weight's gradient is the straight-through one alone.
 */
export function maxAbsScale(g: GraphBuilder, x: Value, options: FakeQuantOptions = {}): Value {
  const rank = x.shape.length;
  const keep = options.axis === undefined ? undefined : axisOf(x, options.axis);
  const axes = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== keep);
  return g.stopGradient(scaleOfRange(g, g.op.ReduceMax(g.op.Abs(x), axes, { keepdims: false }), options.maxCode));
}

/** max|row|/127 per row (the last axis reduced, kept as 1): the scale of looked-up embedding rows. */
export function rowScale(g: GraphBuilder, rows: Value): Value {
  return g.stopGradient(scaleOfRange(g, g.op.ReduceMax(g.op.Abs(rows), [-1], { keepdims: true })));
}

/**
 * s in the forward pass, factor·ds in the backward pass: (s − stopGradient(s))·factor + stopGradient(s), which is
 * exactly s since s − s = 0.
 */
export function scaleGradient(g: GraphBuilder, s: Value, factor: Value | number): Value {
  const { op } = g;
  const frozen = g.stopGradient(s);
  return op.Add(op.Mul(op.Sub(s, frozen), factor), frozen);
}

/**
 * A learned step size for x as LSQ trains it: its gradient scaled by 1/√(N·127), N the number of elements of x in
 * this step (Esser et al. 2020, §2.2: keeps the step's updates in proportion to the weights' as N grows). N counts the
 * batch, as the common LSQ implementations do for activations; it is read at run time, so batch and sequence
 * length may vary.
 */
export function lsqStep(g: GraphBuilder, step: Value, x: Value): Value {
  const { op } = g;
  const n = op.Cast(op.Size(x), step.dtype);
  return scaleGradient(g, step, op.Reciprocal(op.Sqrt(op.Mul(n, INT8_MAX))));
}

function axisOf(x: Value, axis: number): number {
  const a = normalizeAxis(axis, x.shape.length);
  if (a === undefined) throw badScale(x, `axis ${axis} is out of range for rank ${x.shape.length}`);
  return a;
}

/** A per-channel scale [C] reshaped to [C, 1, …, 1] so that it lines up with `axis` of x. */
function channelScale(g: GraphBuilder, x: Value, scale: Value, axis: number): Value {
  const a = axisOf(x, axis);
  const channels = x.shape[a];
  if (scale.shape.length !== 1 || (typeof channels === 'number' && typeof scale.shape[0] === 'number' && scale.shape[0] !== channels)) {
    throw badScale(x, `a scale per index of axis ${a} must be [${channels}], got ${formatShape(scale.shape)}`);
  }
  const trailing = Array.from({ length: x.shape.length - a - 1 }, (_, i) => i + 1);
  return trailing.length === 0 ? scale : g.op.Unsqueeze(scale, trailing);
}

/** A scale without an axis must broadcast against x without widening it. */
function broadcastingScale(x: Value, scale: Value): Value {
  const result = broadcastShapes([x.shape, scale.shape]);
  if ('conflict' in result || formatShape(result.shape) !== formatShape(x.shape)) {
    throw badScale(x, `scale ${formatShape(scale.shape)} does not broadcast against x ${formatShape(x.shape)} without widening it`);
  }
  return scale;
}

function badScale(x: Value, message: string): XlmtError {
  return new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'fakeQuantize', node: x.name }, message });
}

// Shape inference for neural-network ops: softmax, layer normalization, dropout, dynamic quantization.
import { dtypeFromOnnx, isFloat } from '../../ir/dtype.ts';
import { formatShape } from '../../ir/shape.ts';
import { fail } from '../errors.ts';
import type { InferFn, InferTable } from './context.ts';

const softmax: InferFn = (ctx) => {
  const x = ctx.input(0);
  if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
  ctx.axis(ctx.int('axis', -1), x.shape.length);
  return [{ dtype: x.dtype, shape: x.shape }];
};

export const nnShapes: InferTable = {
  Softmax: softmax,
  LogSoftmax: softmax,
  LayerNormalization: (ctx) => {
    const x = ctx.input(0);
    const dtype = ctx.sameDtype([0, 1, 2]);
    const axis = ctx.axis(ctx.int('axis', -1), x.shape.length);
    const normalized = x.shape.slice(axis);
    for (const i of [1, 2]) {
      const p = ctx.optionalInput(i);
      if (p && formatShape(p.shape) !== formatShape(normalized)) {
        fail(`${i === 1 ? 'Scale' : 'B'} has shape ${formatShape(p.shape)}, expected the normalized dims ${formatShape(normalized)}`);
      }
    }
    const stats = [...x.shape.slice(0, axis), ...normalized.map(() => 1)];
    // Mean and InvStdDev are always produced (the gradient reuses them), in the stash type: float32 by default.
    const stash = dtypeFromOnnx(ctx.int('stash_type', 1));
    return [{ dtype, shape: x.shape }, { dtype: stash, shape: stats }, { dtype: stash, shape: stats }];
  },
  DynamicQuantizeLinear: (ctx) => {
    const x = ctx.input(0);
    if (x.dtype !== 'float32') fail(`needs a float32 input, got ${x.dtype}`);
    return [{ dtype: 'uint8', shape: x.shape }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }];
  },
  QuantizeLinear: (ctx) => {
    const x = ctx.input(0);
    const scale = ctx.input(1);
    const zeroPoint = ctx.input(2);
    if (x.dtype !== 'float32') fail(`needs a float32 input, got ${x.dtype}`);
    if (scale.dtype !== 'float32' || scale.shape.length !== 0) fail(`y_scale must be a float32 scalar (per tensor), got ${scale.dtype} ${formatShape(scale.shape)}`);
    if ((zeroPoint.dtype !== 'uint8' && zeroPoint.dtype !== 'int8') || zeroPoint.shape.length !== 0) fail(`y_zero_point must be a uint8 or int8 scalar, got ${zeroPoint.dtype} ${formatShape(zeroPoint.shape)}`);
    return [{ dtype: zeroPoint.dtype, shape: x.shape }];
  },
  DequantizeLinear: (ctx) => {
    const x = ctx.input(0);
    const scale = ctx.input(1);
    if (x.dtype !== 'uint8' && x.dtype !== 'int8') fail(`needs a uint8 or int8 input, got ${x.dtype}`);
    if (scale.dtype !== 'float32' || scale.shape.length > 1) fail(`x_scale must be a float32 scalar or vector, got ${scale.dtype} ${formatShape(scale.shape)}`);
    const zeroPoint = ctx.optionalInput(2);
    if (zeroPoint && zeroPoint.dtype !== x.dtype) fail(`x_zero_point is ${zeroPoint.dtype}, x is ${x.dtype}`);
    return [{ dtype: 'float32', shape: x.shape }];
  },
  Dropout: (ctx) => {
    const x = ctx.input(0);
    if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }];
  },
};

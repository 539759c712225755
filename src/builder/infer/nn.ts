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
  Dropout: (ctx) => {
    const x = ctx.input(0);
    if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }];
  },
};

// Shape inference for elementwise ops: unary ops keep their input's shape, n-ary ops broadcast numpy-style.
import { dtypeFromOnnx, isFloat } from '../../ir/dtype.ts';
import { broadcastShapes } from '../../ir/shape.ts';
import { fail } from '../errors.ts';
import type { InferContext, InferFn, InferTable, OutputType } from './context.ts';

const unary: InferFn = (ctx) => [{ dtype: ctx.input(0).dtype, shape: ctx.input(0).shape }];

const unaryFloat: InferFn = (ctx) => {
  const x = ctx.input(0);
  if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
  return [{ dtype: x.dtype, shape: x.shape }];
};

function broadcast(ctx: InferContext, indices: readonly number[]): OutputType['shape'] {
  const result = broadcastShapes(indices.map((i) => ctx.input(i).shape));
  if ('conflict' in result) fail(`shapes do not broadcast: ${result.conflict}`);
  return result.shape;
}

const binary: InferFn = (ctx) => [{ dtype: ctx.sameDtype([0, 1]), shape: broadcast(ctx, [0, 1]) }];

const comparison: InferFn = (ctx) => {
  ctx.sameDtype([0, 1]);
  return [{ dtype: 'bool', shape: broadcast(ctx, [0, 1]) }];
};

const logical: InferFn = (ctx) => {
  for (const i of [0, 1]) if (ctx.input(i).dtype !== 'bool') fail(`input ${i} must be bool, got ${ctx.input(i).dtype}`);
  return [{ dtype: 'bool', shape: broadcast(ctx, [0, 1]) }];
};

const variadic: InferFn = (ctx) => {
  const all = ctx.inputs.map((_, i) => i);
  return [{ dtype: ctx.sameDtype(all), shape: broadcast(ctx, all) }];
};

export const elementwiseShapes: InferTable = {
  Identity: (ctx) => {
    const x = ctx.input(0);
    return [{ dtype: x.dtype, shape: x.shape, ...(x.contents ? { contents: x.contents } : {}) }];
  },
  Neg: unary,
  Abs: unary,
  Sqrt: unaryFloat,
  Reciprocal: unaryFloat,
  Exp: unaryFloat,
  Log: unaryFloat,
  Tanh: unaryFloat,
  Erf: unaryFloat,
  CumSum: (ctx) => {
    const x = ctx.input(0);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  Sigmoid: unaryFloat,
  Relu: unary,
  Softplus: unaryFloat,
  Round: unaryFloat,
  // min and max are optional 0-D inputs of x's type (opset 11 on).
  Clip: (ctx) => {
    const x = ctx.input(0);
    for (const i of [1, 2]) {
      const bound = ctx.optionalInput(i);
      if (!bound) continue;
      if (bound.dtype !== x.dtype) fail(`input ${i} (${i === 1 ? 'min' : 'max'}) is ${bound.dtype}, x is ${x.dtype}`);
      if (bound.shape.length !== 0) fail(`input ${i} (${i === 1 ? 'min' : 'max'}) must be a scalar, got rank ${bound.shape.length}`);
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  Not: (ctx) => {
    if (ctx.input(0).dtype !== 'bool') fail(`input must be bool, got ${ctx.input(0).dtype}`);
    return [{ dtype: 'bool', shape: ctx.input(0).shape }];
  },
  Add: binary,
  Sub: binary,
  Mul: binary,
  Div: binary,
  // Pow allows a different exponent type; the result has the base's type.
  Pow: (ctx) => [{ dtype: ctx.input(0).dtype, shape: broadcast(ctx, [0, 1]) }],
  Max: variadic,
  Min: variadic,
  Sum: variadic,
  Equal: comparison,
  Less: comparison,
  LessOrEqual: comparison,
  Greater: comparison,
  GreaterOrEqual: comparison,
  And: logical,
  Or: logical,
  Where: (ctx) => {
    if (ctx.input(0).dtype !== 'bool') fail(`condition must be bool, got ${ctx.input(0).dtype}`);
    return [{ dtype: ctx.sameDtype([1, 2]), shape: broadcast(ctx, [0, 1, 2]) }];
  },
  Cast: (ctx) => {
    const x = ctx.input(0);
    return [{ dtype: dtypeFromOnnx(ctx.int('to', 0)), shape: x.shape, ...(x.contents ? { contents: x.contents } : {}) }];
  },
};

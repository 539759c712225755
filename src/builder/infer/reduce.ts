// Shape inference for reductions (opset 18: axes come as a constant input).
import type { Dim } from '../../ir/shape.ts';
import type { InferFn, InferTable } from './context.ts';

const reduce: InferFn = (ctx) => {
  const x = ctx.input(0);
  const rank = x.shape.length;
  const keep = ctx.int('keepdims', 1) === 1;
  const given = ctx.optionalInput(1) ? ctx.constantInts(1, 'axes') : [];
  const noop = ctx.int('noop_with_empty_axes', 0) === 1;
  if (given.length === 0 && noop) return [{ dtype: x.dtype, shape: x.shape }];
  const axes = new Set(given.length === 0 ? x.shape.map((_, i) => i) : given.map((a) => ctx.axis(a, rank, 'reduction axis')));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.has(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
};

export const reduceShapes: InferTable = {
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceSumSquare: reduce,
};

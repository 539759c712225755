// Shape inference for matrix products.
import { broadcastShapes, type Dim, formatShape } from '../../ir/shape.ts';
import { fail } from '../errors.ts';
import type { InferTable } from './context.ts';

function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  return a === b || typeof a === 'string' || typeof b === 'string';
}

export const linalgShapes: InferTable = {
  MatMul: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const dtype = ctx.sameDtype([0, 1]);
    if (a.shape.length < 2 || b.shape.length < 2) {
      fail(`both operands need rank >= 2 (got A ${formatShape(a.shape)}, B ${formatShape(b.shape)}); unsqueeze 1-D operands first`);
    }
    const k1 = a.shape[a.shape.length - 1];
    const k2 = b.shape[b.shape.length - 2];
    if (!sameDim(k1, k2)) {
      fail(`inner dimensions differ: A ${formatShape(a.shape)} has ${k1} columns, B ${formatShape(b.shape)} has ${k2} rows`);
    }
    const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    if ('conflict' in batch) fail(`batch dimensions do not broadcast: ${batch.conflict}`);
    const m = a.shape[a.shape.length - 2] as Dim;
    const n = b.shape[b.shape.length - 1] as Dim;
    return [{ dtype, shape: [...batch.shape, m, n] }];
  },
  Gemm: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const dtype = ctx.sameDtype([0, 1, 2]);
    if (a.shape.length !== 2 || b.shape.length !== 2) {
      fail(`A and B must be 2-D (got A ${formatShape(a.shape)}, B ${formatShape(b.shape)})`);
    }
    const transA = ctx.int('transA', 0) === 1;
    const transB = ctx.int('transB', 0) === 1;
    const [m, k1] = (transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]]) as [Dim, Dim];
    const [k2, n] = (transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]]) as [Dim, Dim];
    if (!sameDim(k1, k2)) {
      fail(`inner dimensions differ: op(A) is [${m}, ${k1}], op(B) is [${k2}, ${n}] (transA=${Number(transA)}, transB=${Number(transB)})`);
    }
    const c = ctx.optionalInput(2);
    if (c) {
      const fits = broadcastShapes([c.shape, [m, n]]);
      if ('conflict' in fits || fits.shape.length !== 2 || !sameDim(fits.shape[0], m) || !sameDim(fits.shape[1], n)) {
        fail(`C ${formatShape(c.shape)} does not broadcast to the product's shape [${m}, ${n}]`);
      }
    }
    return [{ dtype, shape: [m, n] }];
  },
};

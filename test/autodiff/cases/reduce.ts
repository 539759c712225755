// Gradient-check cases for reductions: keepdims 0 and 1, one axis, several axes, a negative axis, all axes.
import { distinct, type Gen, type GradCase, gradCase } from '../gradcheck.ts';

type Reduction = 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ReduceSumSquare';

/** Axis sets over x [2,3,4]; undefined reduces every axis. */
const AXES: readonly (readonly number[] | undefined)[] = [[1], [0, 2], [-1], undefined];

function reductions(op: Reduction, gen?: Gen): GradCase[] {
  return AXES.flatMap((axes) =>
    [true, false].map((keepdims) =>
      gradCase({
        name: `${op} axes ${axes ? `[${axes.join(',')}]` : 'all'} keepdims ${Number(keepdims)}`,
        ops: [op],
        dtype: 'float64',
        inputs: { x: { shape: [2, 3, 4], ...(gen ? { gen } : {}) } },
        build: (g, { x }) => g.op[op](x, axes, { keepdims }),
      }),
    ),
  );
}

/** Symbolic dims: ReduceMean's 1/n comes from element counts at run time. */
const symbolic: GradCase[] = [
  gradCase({
    name: 'ReduceMean axes [1] keepdims 0 of [batch,seq,4] (symbolic dims)',
    ops: ['ReduceMean'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [2, 4],
    build: (g, { x }) => g.op.ReduceMean(x, [1], { keepdims: false }),
  }),
  gradCase({
    name: 'ReduceMax axes [-1] keepdims 1 of [batch,seq,4] (symbolic dims)',
    ops: ['ReduceMax'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4], gen: distinct } },
    outputShape: [2, 3, 1],
    build: (g, { x }) => g.op.ReduceMax(x, [-1], { keepdims: true }),
  }),
];

export const reduceCases: GradCase[] = [
  ...symbolic,
  ...reductions('ReduceSum'),
  ...reductions('ReduceMean'),
  // Distinct values: every slice has one maximum, at least 0.1 above the runner-up.
  ...reductions('ReduceMax', distinct),
  ...reductions('ReduceMin', distinct),
  ...reductions('ReduceSumSquare'),
];

// Gradient-check cases for ops that move or select data: reshapes, transposes, concat/split, slice, gathers.
import { type GradCase, gradCase, nth } from '../gradcheck.ts';

/** One input x of the given shape, y = build(x). */
function single(name: string, op: string, shape: readonly number[], build: GradCase<'x'>['build']): GradCase {
  return gradCase({ name, ops: [op], dtype: 'float64', inputs: { x: { shape } }, build });
}

/** A table [5,3] gathered along axis 0 with repeated rows (0 twice, 4 as 4 and as −1, 2 twice). */
const table = { shape: [5, 3] };
const repeated = { shape: [2, 3], dtype: 'int64', values: [0, 2, 0, 4, -1, 2] } as const;


/** Symbolic dims ('batch', 'seq'): the rules take their run-time-shape branches. */
const symbolic: GradCase[] = [
  gradCase({
    name: 'Reshape [batch,seq,4] → [-1,4] (symbolic dims)',
    ops: ['Reshape'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [6, 4],
    build: (g, { x }) => g.op.Reshape(x, [-1, 4]),
  }),
  gradCase({
    name: 'Concat of [n,2] and [m,2] along axis 0 (symbolic sizes: dy split at run time)',
    ops: ['Concat'],
    dtype: 'float64',
    inputs: { a: { shape: [2, 2], dims: ['n', 2] }, b: { shape: [3, 2], dims: ['m', 2] } },
    outputShape: [5, 2],
    build: (g, { a, b }) => g.op.Concat([a, b], 0),
  }),
  gradCase({
    name: 'Concat of [batch,1,4] and [batch,seq,4] along axis 1 (prepending a token)',
    ops: ['Concat'],
    dtype: 'float64',
    inputs: { cls: { shape: [2, 1, 4], dims: ['batch', 1, 4] }, x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [2, 4, 4],
    build: (g, { cls, x }) => g.op.Concat([cls, x], 1),
  }),
  gradCase({
    name: 'Gather axis 0 with [batch,seq] ids, rows (symbolic dims, the embedding lookup)',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { table: { shape: [5, 3] }, ids: { shape: [2, 3], dims: ['batch', 'seq'], dtype: 'int64', values: [1, 4, 1, 0, 0, 2] } },
    outputShape: [2, 3, 3],
    rows: ['table'],
    build: (g, { table, ids }) => g.op.Gather(table, ids, 0),
  }),
  gradCase({
    name: 'Slice [1:2] of axis seq in [batch,seq,4] (symbolic dims)',
    ops: ['Slice'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [2, 1, 4],
    build: (g, { x }) => g.op.Slice(x, [1], [2], [1]),
  }),
  gradCase({
    name: 'Slice [1:100] of axis seq in [batch,seq,4] (symbolic dims, end past the end)',
    ops: ['Slice'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [2, 2, 4],
    build: (g, { x }) => g.op.Slice(x, [1], [100], [1]),
  }),
  gradCase({
    name: 'Expand [seq,1] → Shape([batch,seq,4]) (symbolic dims)',
    ops: ['Expand'],
    dtype: 'float64',
    inputs: { x: { shape: [3, 1], dims: ['seq', 1] }, like: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] } },
    outputShape: [2, 3, 4],
    build: (g, { x, like }) => g.op.Add(g.op.Expand(x, g.op.Shape(like)), like),
  }),
];

export const layoutCases: GradCase[] = [
  ...symbolic,
  single('Reshape [2,3,4] → [6,4]', 'Reshape', [2, 3, 4], (g, { x }) => g.op.Reshape(x, [6, 4])),
  single('Reshape [2,3,4] → [0,-1] (copy and infer)', 'Reshape', [2, 3, 4], (g, { x }) => g.op.Reshape(x, [0, -1])),
  single('Squeeze axes [1] of [2,1,3]', 'Squeeze', [2, 1, 3], (g, { x }) => g.op.Squeeze(x, [1])),
  {
    ...single('Squeeze every size-1 axis of [1,3,1,2]', 'Squeeze', [1, 3, 1, 2], (g, { x }) => g.op.Squeeze(x)),
  },
  single('Unsqueeze axes [0,-1] of [3,4]', 'Unsqueeze', [3, 4], (g, { x }) => g.op.Unsqueeze(x, [0, -1])),
  single('Transpose perm [2,0,1]', 'Transpose', [2, 3, 4], (g, { x }) => g.op.Transpose(x, [2, 0, 1])),
  single('Transpose [0,2,1,3] (attention heads)', 'Transpose', [2, 3, 2, 2], (g, { x }) => g.op.Transpose(x, [0, 2, 1, 3])),
  single('Transpose default (reversed) perm', 'Transpose', [2, 3, 4], (g, { x }) => g.op.Transpose(x)),
  single('Expand [3,1] → [2,3,4]', 'Expand', [3, 1], (g, { x }) => g.op.Expand(x, [2, 3, 4])),
  single('Expand [4] → [2,3,4]', 'Expand', [4], (g, { x }) => g.op.Expand(x, [2, 3, 4])),
  gradCase({
    name: 'Concat of three along axis 1',
    ops: ['Concat'],
    dtype: 'float64',
    inputs: { a: { shape: [2, 1, 4] }, b: { shape: [2, 3, 4] }, c: { shape: [2, 2, 4] } },
    build: (g, { a, b, c }) => g.op.Concat([a, b, c], 1),
  }),
  gradCase({
    name: 'Concat along axis -1',
    ops: ['Concat'],
    dtype: 'float64',
    inputs: { a: { shape: [2, 3] }, b: { shape: [2, 2] } },
    build: (g, { a, b }) => g.op.Concat([a, b], -1),
  }),
  single('Split [3,3] along axis 1, both outputs used', 'Split', [2, 6], (g, { x }) => {
    const parts = g.op.Split(x, [3, 3], 1);
    return g.op.Mul(nth(parts, 0), nth(parts, 1));
  }),
  // Output 0 gets no gradient: the rule fills it with zeros.
  single('Split [2,4] along axis -1, only output 1 used', 'Split', [2, 6], (g, { x }) => nth(g.op.Split(x, [2, 4], -1), 1)),
  single('Split [1,2,3] along axis 0, the middle output unused', 'Split', [6, 2], (g, { x }) => {
    const parts = g.op.Split(x, [1, 2, 3], 0);
    return g.op.Concat([nth(parts, 0), nth(parts, 2)], 0);
  }),
  single('Slice [1:3] of axis 1', 'Slice', [3, 5], (g, { x }) => g.op.Slice(x, [1], [3], [1])),
  single('Slice [-3:100] of axis -1 (negative start, end past the end)', 'Slice', [3, 5], (g, { x }) => g.op.Slice(x, [-3], [100], [-1])),
  single('Slice two axes, starts [1,-4] ends [100,-1]', 'Slice', [3, 5], (g, { x }) => g.op.Slice(x, [1, -4], [100, -1], [0, 1])),
  single('Slice without axes, starts [0,1] ends [2,4]', 'Slice', [3, 5], (g, { x }) => g.op.Slice(x, [0, 1], [2, 4])),
  gradCase({
    name: 'Gather axis 0, repeated and negative indices, dense',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { table, ids: repeated },
    build: (g, { table, ids }) => g.op.Gather(table, ids, 0),
  }),
  gradCase({
    name: 'Gather axis 0, repeated and negative indices, rows',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { table, ids: repeated },
    rows: ['table'],
    build: (g, { table, ids }) => g.op.Gather(table, ids, 0),
  }),
  gradCase({
    name: 'Gather axis 0 of a computed table (rows scattered into a dense gradient mid-graph)',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { table, ids: repeated },
    build: (g, { table, ids }) => g.op.Gather(g.op.Mul(table, table), ids, 0),
  }),
  gradCase({
    name: 'Gather axis 0 with a scalar index [5,3] → [3]',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { table, id: { shape: [], dtype: 'int64', values: [3] } },
    build: (g, { table, id }) => g.op.Gather(table, id, 0),
  }),
  gradCase({
    name: 'Gather axis 1 with a scalar index (CLS pooling) [2,4,3] → [2,3]',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 4, 3] }, cls: { shape: [], dtype: 'int64', values: [0] } },
    build: (g, { x, cls }) => g.op.Gather(x, cls, 1),
  }),
  gradCase({
    name: 'Gather axis 1 with repeated 2-D indices [2,4,3] → [2,2,2,3]',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 4, 3] }, ids: { shape: [2, 2], dtype: 'int64', values: [3, 1, 3, -4] } },
    build: (g, { x, ids }) => g.op.Gather(x, ids, 1),
  }),
  gradCase({
    name: 'Gather axis -1 with int32 indices',
    ops: ['Gather'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 4] }, ids: { shape: [3], dtype: 'int32', values: [2, 2, 0] } },
    build: (g, { x, ids }) => g.op.Gather(x, ids, -1),
  }),
  gradCase({
    name: 'GatherElements axis 1 with repeated indices',
    ops: ['GatherElements'],
    dtype: 'float64',
    inputs: { x: { shape: [3, 4] }, ids: { shape: [3, 5], dtype: 'int64', values: [0, 0, 3, 1, 1, 2, 2, 2, 0, 3, 3, 1, 0, 0, 2] } },
    build: (g, { x, ids }) => g.op.GatherElements(x, ids, 1),
  }),
  gradCase({
    name: 'GatherElements axis -1 of [2,2,3]',
    ops: ['GatherElements'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 2, 3] }, ids: { shape: [2, 2, 2], dtype: 'int64', values: [2, 2, 0, 1, -1, 0, 1, 1] } },
    build: (g, { x, ids }) => g.op.GatherElements(x, ids, -1),
  }),
  gradCase({
    name: 'GatherElements axis 0, fewer rows than the data',
    ops: ['GatherElements'],
    dtype: 'float64',
    inputs: { x: { shape: [3, 4] }, ids: { shape: [2, 4], dtype: 'int64', values: [2, 0, 1, 2, 2, 1, 1, -1] } },
    build: (g, { x, ids }) => g.op.GatherElements(x, ids, 0),
  }),
];

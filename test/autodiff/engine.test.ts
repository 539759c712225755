// The autodiff engine: fan-out, stop-gradient, integer inputs, unreachable values, missing rules, loss shape, rows.
import { describe, expect, it } from 'vitest';
import { AutodiffError, backward, type GradientValue } from '../../src/autodiff/index.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import type { Value } from '../../src/ir/graph.ts';
import { tensorFromNumbers } from '../../src/ir/tensor.ts';
import { checkGradient, densifyRows, gradCase, numbers, runGraph } from './gradcheck.ts';

const f64 = (shape: readonly number[], values: readonly number[]) => tensorFromNumbers('float64', shape, values);
const i64 = (shape: readonly number[], values: readonly number[]) => tensorFromNumbers('int64', shape, values);
const sum = (g: GraphBuilder, v: Value): Value => g.op.ReduceSum(v, undefined, { keepdims: false });

function dense(grad: GradientValue | undefined): Value {
  if (grad?.kind !== 'dense') throw new Error(`expected a dense gradient, got ${grad?.kind ?? 'none'}`);
  return grad.value;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('backward', () => {
  const x0 = [-1.5, 0.25, 2];

  it('accumulates the gradients of a value used by several consumers', async () => {
    const g = new GraphBuilder('fanout');
    const x = g.input('x', 'float64', [3]);
    // L = Σ exp(x) + Σ 3x + Σ tanh(x): dL/dx = exp(x) + 3 + 1 − tanh²(x)
    const loss = g.op.Add(g.op.Add(sum(g, g.op.Exp(x)), sum(g, g.op.Mul(x, 3))), sum(g, g.op.Tanh(x)));
    const grad = dense(backward(g, loss, [x]).gradients.get('x'));
    // Three contributions meet in one Sum node.
    expect(grad.producer?.node.opType).toBe('Sum');
    expect(grad.producer?.node.inputs).toHaveLength(3);
    g.output('dx', grad);
    const out = await runGraph(g.build(), { x: f64([3], x0) });
    const expected = x0.map((v) => Math.exp(v) + 3 + 1 - Math.tanh(v) ** 2);
    numbers(out.dx, 'dx').forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 12));
  });

  it('passes no gradient through stopGradient: d/dx Σ x·sg(x) = x, not 2x', async () => {
    const g = new GraphBuilder('stop');
    const x = g.input('x', 'float64', [3]);
    const loss = sum(g, g.op.Mul(x, g.stopGradient(x)));
    g.output('dx', dense(backward(g, loss, [x]).gradients.get('x')));
    const out = await runGraph(g.build(), { x: f64([3], x0) });
    expect(numbers(out.dx, 'dx')).toEqual(x0);
  });

  it('reports a value reached only through stopGradient as unreachable', () => {
    const g = new GraphBuilder('stop_only');
    const x = g.input('x', 'float64', [3]);
    const w = g.input('w', 'float64', [3]);
    const loss = sum(g, g.op.Add(x, g.op.Exp(g.stopGradient(w))));
    const { gradients, unreachable } = backward(g, loss, [x, w]);
    expect([...gradients.keys()]).toEqual(['x']);
    expect(unreachable).toEqual(['w']);
  });

  it('gives integer inputs no gradient and does not fail on them', async () => {
    const g = new GraphBuilder('ints');
    const table = g.input('table', 'float64', [4, 2]);
    const ids = g.input('ids', 'int64', [3]);
    const scale = g.input('scale', 'int64', [3, 1]);
    // The int64 scale reaches the loss through a Cast, the ids through Gather: neither can have a gradient.
    const loss = sum(g, g.op.Mul(g.op.Gather(table, ids), g.op.Cast(scale, 'float64')));
    const { gradients } = backward(g, loss, [table, ids, scale], { dense: true });
    expect([...gradients.keys()]).toEqual(['table']);
    g.output('dtable', dense(gradients.get('table')));
    const out = await runGraph(g.build(), { table: f64([4, 2], [0, 0, 0, 0, 0, 0, 0, 0]), ids: i64([3], [1, 3, 1]), scale: i64([3, 1], [2, 5, 7]) });
    expect(numbers(out.dtable, 'dtable')).toEqual([0, 0, 9, 9, 0, 0, 5, 5]);
  });

  it('reports a parameter that does not reach the loss in unreachable', () => {
    const g = new GraphBuilder('unreachable');
    const x = g.input('x', 'float32', [2, 3]);
    const w = g.param('dense.weight', [3, 3]);
    const unused = g.param('pooler.dense.weight', [3, 3]);
    // pooler.dense.weight feeds a graph output, but not the loss.
    g.output('pooled', g.op.MatMul(x, unused));
    const { gradients, unreachable } = backward(g, sum(g, g.op.MatMul(x, w)), [w, unused]);
    expect([...gradients.keys()]).toEqual(['dense.weight']);
    expect(unreachable).toEqual(['pooler.dense.weight']);
  });

  it('throws an AutodiffError naming the op and node when a differentiable path has no rule', () => {
    const g = new GraphBuilder('missing');
    const x = g.input('x', 'float32', [2, 3]);
    // Pad has a shape rule (src/builder/infer/layout.ts) but no gradient rule.
    const padded = g.scope('embeddings', () => g.op.Pad(x, [0, 1, 0, 1]));
    const error = thrown(() => backward(g, sum(g, padded), [x]));
    expect(error).toBeInstanceOf(AutodiffError);
    expect(error).toMatchObject({ code: 'AUTODIFF_FAILED', node: 'embeddings/Pad', opType: 'Pad', where: { node: 'embeddings/Pad' } });
    expect((error as Error).message).toBe('node "embeddings/Pad": Pad: no gradient rule for ai.onnx::Pad. Add one in src/autodiff/rules/');
  });

  it('does not need rules for ops off the differentiable path', () => {
    const g = new GraphBuilder('off_path');
    const x = g.input('x', 'float32', [2, 3]);
    const mask = g.input('mask', 'float32', [2, 1]);
    // Pad only sees the mask, which is not differentiated.
    const loss = sum(g, g.op.Mul(x, g.op.Pad(mask, [0, 1, 0, 1])));
    expect(backward(g, loss, [x]).unreachable).toEqual([]);
  });

  it('rejects a non-scalar loss and accepts shape [1]', () => {
    const g = new GraphBuilder('loss_shape');
    const x = g.input('x', 'float32', [2, 3]);
    const perRow = g.op.ReduceSum(x, [1], { keepdims: false });
    const error = thrown(() => backward(g, perRow, [x]));
    expect(error).toBeInstanceOf(AutodiffError);
    expect((error as Error).message).toContain('the loss must be a scalar, got shape [2]');
    expect(backward(g, g.op.Reshape(sum(g, x), [1]), [x]).gradients.has('x')).toBe(true);
  });

  it('un-broadcasts a gradient over symbolic leading dims', async () => {
    const g = new GraphBuilder('symbolic');
    const a = g.input('a', 'float64', ['batch', 'seq', 2]);
    const b = g.input('b', 'float64', ['seq', 2]);
    const u = g.input('u', 'float64', ['batch', 'seq', 2]);
    g.output('db', dense(backward(g, sum(g, g.op.Mul(g.op.Add(a, b), u)), [b]).gradients.get('b')));
    const uValues = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const out = await runGraph(g.build(), { a: f64([2, 3, 2], uValues), b: f64([3, 2], [0, 0, 0, 0, 0, 0]), u: f64([2, 3, 2], uValues) });
    expect(out.db?.shape).toEqual([3, 2]);
    expect(numbers(out.db, 'db')).toEqual([8, 10, 12, 14, 16, 18]);
  });
});

describe('row gradients', () => {
  // A table [6,2] gathered twice; index -1 is row 5.
  const ids1 = [4, 0, 4];
  const ids2 = [[1, -1], [0, 0]];
  const tableValues = Array.from({ length: 12 }, (_, i) => i / 10);
  const u1 = [1, 2, 3, 4, 5, 6];
  const u2 = [0.5, -1, 1.5, -2, 2.5, -3, 3.5, -4];

  /** L = Σ Gather(table, ids1)⊙u1 + Σ Gather(table, ids2)⊙u2 */
  function twoGathers(dense: boolean) {
    const g = new GraphBuilder('two_gathers');
    const table = g.input('table', 'float64', [6, 2]);
    const loss = g.op.Add(
      sum(g, g.op.Mul(g.op.Gather(table, g.input('ids1', 'int64', [3])), g.input('u1', 'float64', [3, 2]))),
      sum(g, g.op.Mul(g.op.Gather(table, g.input('ids2', 'int64', [2, 2])), g.input('u2', 'float64', [2, 2, 2]))),
    );
    return { g, grad: backward(g, loss, [table], { dense }).gradients.get('table') };
  }

  const feeds = {
    table: f64([6, 2], tableValues),
    ids1: i64([3], ids1),
    ids2: i64([2, 2], ids2.flat()),
    u1: f64([3, 2], u1),
    u2: f64([2, 2, 2], u2),
  };

  it('concatenates the rows of a table used by two Gathers, and they sum to the dense gradient', async () => {
    const rows = twoGathers(false);
    if (rows.grad?.kind !== 'rows') throw new Error(`expected rows, got ${rows.grad?.kind}`);
    expect(rows.grad.indices.producer?.node.opType).toBe('Concat');
    expect(rows.grad.values.producer?.node.opType).toBe('Concat');
    rows.g.output('indices', rows.grad.indices);
    rows.g.output('values', rows.grad.values);
    const sparse = await runGraph(rows.g.build(), feeds);
    // One row of dy per index, negative indices made positive; the two Gathers' blocks may come in either order.
    expect(sparse.values?.shape).toEqual([7, 2]);
    const values = numbers(sparse.values, 'values');
    const pairs = numbers(sparse.indices, 'indices').map((index, n) => [index, values[2 * n], values[2 * n + 1]]);
    const expected = [...ids1, ...ids2.flat().map((i) => (i < 0 ? i + 6 : i))].map((index, n) => [index, ...[...u1, ...u2].slice(2 * n, 2 * n + 2)]);
    const byIndex = (a: readonly unknown[], b: readonly unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(pairs.sort(byIndex)).toEqual(expected.sort(byIndex));

    const full = twoGathers(true);
    full.g.output('dense', dense(full.grad));
    const reference = await runGraph(full.g.build(), feeds);
    const densified = densifyRows(numbers(sparse.indices, 'indices'), numbers(sparse.values, 'values'), 12);
    expect(numbers(reference.dense, 'dense')).toEqual(densified);
    // Row 0: u1 row 1 + u2 rows 2, 3; row 1: u2 row 0; row 4: u1 rows 0, 2; row 5: u2 row 1.
    expect(densified).toEqual([3 + 2.5 + 3.5, 4 - 3 - 4, 0.5, -1, 0, 0, 0, 0, 1 + 5, 2 + 6, 1.5, -2]);
  });

  it('gives a dense gradient to a table also used outside Gather (tied embeddings)', () => {
    const g = new GraphBuilder('tied');
    const table = g.input('table', 'float32', [6, 2]);
    const hidden = g.op.Gather(table, g.input('ids', 'int64', [3]));
    const logits = g.op.MatMul(hidden, g.op.Transpose(table, [1, 0]));
    expect(backward(g, sum(g, logits), [table]).gradients.get('table')?.kind).toBe('dense');
  });
});

describe('the gradient check itself', () => {
  it('fails on a wrong gradient: Σ x·sg(x) has gradient x, central differences see 2x', async () => {
    const result = await checkGradient(
      gradCase({ name: 'x times stopGradient(x)', ops: [], dtype: 'float64', inputs: { x: { shape: [2, 3] } }, build: (g, { x }) => g.op.Mul(x, g.stopGradient(x)) }),
    );
    expect(result.ok).toBe(false);
    expect(result.analytic).toBeCloseTo(result.numeric / 2, 6);
  });
});

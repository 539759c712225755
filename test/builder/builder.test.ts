// The graph builder: scoped names, shape inference with symbolic dims, build-time errors, serialization.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, GraphBuildError } from '../../src/builder/index.ts';
import { tensorFromNumbers } from '../../src/ir/tensor.ts';
import { Session } from '../../src/runtime/session.ts';

describe('GraphBuilder', () => {
  it('names nodes deterministically by scope and op', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 4]);
    const names = g.scope('encoder.layer.3', () =>
      g.scope('attention', () => {
        const a = g.op.Relu(x);
        const b = g.op.Relu(a);
        const w = g.param('weight', [4, 4]);
        return [a.name, b.name, w.name, g.op.MatMul(b, w).name];
      }),
    );
    expect(names).toEqual([
      'encoder.layer.3.attention/Relu',
      'encoder.layer.3.attention/Relu_1',
      'encoder.layer.3.attention.weight',
      'encoder.layer.3.attention/MatMul',
    ]);
  });

  it('infers symbolic shapes through reshape, transpose and matmul', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 'seq', 384]);
    const flat = g.op.Reshape(x, [-1, 384]);
    expect(flat.shape).toEqual(['batch*seq', 384]);
    const heads = g.op.Reshape(x, [0, 0, 12, 32]);
    expect(heads.shape).toEqual(['batch', 'seq', 12, 32]);
    const t = g.op.Transpose(heads, [0, 2, 1, 3]);
    expect(t.shape).toEqual(['batch', 12, 'seq', 32]);
    const scores = g.op.MatMul(t, g.op.Transpose(t, [0, 1, 3, 2]));
    expect(scores.shape).toEqual(['batch', 12, 'seq', 'seq']);
    const back = g.op.Reshape(flat, g.op.Shape(x));
    expect(back.shape).toEqual(['batch', 'seq', 384]);
    expect(g.op.ReduceSum(scores, [1, 3], { keepdims: false }).shape).toEqual(['batch', 'seq']);
  });

  it('rejects a shape mismatch naming the node, the op and both shapes', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 384]);
    const w = g.scope('encoder.layer.0.output.dense', () => g.param('weight', [256, 128]));
    let error: unknown;
    try {
      g.scope('encoder.layer.0.output', () => g.op.MatMul(x, w));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphBuildError);
    const message = (error as Error).message;
    expect(message).toMatch(/^node "encoder\.layer\.0\.output\/MatMul": MatMul: /);
    expect(error).toMatchObject({ code: 'GRAPH_BUILD_FAILED', where: { node: 'encoder.layer.0.output/MatMul' }, opType: 'MatMul' });
    expect(message).toContain('[batch, 384]');
    expect(message).toContain('[256, 128]');
  });

  it('rejects broadcasting conflicts and mixed element types', () => {
    const g = new GraphBuilder('t');
    const a = g.input('a', 'float32', [3, 4]);
    const b = g.input('b', 'float32', [5, 4]);
    const c = g.input('c', 'float64', [3, 4]);
    expect(() => g.op.Add(a, b)).toThrow(/^node "Add_?\d*": Add: shapes do not broadcast/);
    expect(() => g.op.Mul(a, c)).toThrow(/share one element type/);
  });

  it('serializes a graph that ONNX Runtime runs', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.param('w', [3, 2]);
    const y = g.op.Add(g.op.MatMul(x, w), 1);
    g.output('y', g.op.ReduceSum(y, [1], { keepdims: false }));
    const session = await Session.create(g.build(), { threads: 1 });
    const params = new Map([['w', { name: 'w', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }]]);
    const out = await session.run({ x: tensorFromNumbers('float32', [2, 3], [1, 0, 0, 0, 1, 1]) }, params);
    expect(Array.from(out.y?.data as Float32Array)).toEqual([1 + 2 + 2, 3 + 4 + 5 + 6 + 2]);
  });
});

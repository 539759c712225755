// The shape of backward graphs: which nodes the rules emit, asserted on the graph itself.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autodiff/index.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import type { Node } from '../../src/ir/graph.ts';

function gradNodes(g: GraphBuilder, before: number): Node[] {
  return g.build().nodes.slice(before);
}

describe('backward graph structure', () => {
  it('folds the batch into one Gemm for a weight shared across the batch', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 'seq', 8]);
    const w = g.param('w', [8, 4]);
    const loss = g.op.ReduceSum(g.op.MatMul(x, w), undefined, { keepdims: false });
    const before = g.build().nodes.length;
    const { gradients } = backward(g, loss, [w]);
    const grad = gradients.get('w');
    expect(grad?.kind).toBe('dense');
    const producer = grad?.kind === 'dense' ? grad.value.producer?.node : undefined;
    expect(producer?.opType).toBe('Gemm');
    expect(producer?.attributes.transA).toEqual({ type: 'int', value: 1 });
    expect(grad?.kind === 'dense' && grad.value.shape).toEqual([8, 4]);
    // No batched [batch, 8, 4] product is formed and reduced.
    expect(gradNodes(g, before).some((n) => n.opType === 'ReduceSum')).toBe(false);
  });

  it('differentiates Gemm with Gemm transpose flags, never a Transpose node', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['rows', 8]);
    const w = g.param('w', [4, 8]);
    const b = g.param('b', [4]);
    const loss = g.op.ReduceSum(g.op.Gemm(x, w, b, { transB: 1 }), undefined, { keepdims: false });
    const before = g.build().nodes.length;
    const { gradients } = backward(g, loss, [x, w, b]);
    const added = gradNodes(g, before);
    expect(added.filter((n) => n.opType === 'Transpose')).toEqual([]);
    expect(added.filter((n) => n.opType === 'Gemm')).toHaveLength(2);
    // The bias gradient is dy summed over rows, by the engine's un-broadcasting.
    const db = gradients.get('b');
    expect(db?.kind === 'dense' && db.value.producer?.node.opType).toBe('ReduceSum');
  });

  it('names backward nodes after the forward node they differentiate', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [3]);
    const w = g.scope('layer.0', () => g.param('weight', [3]));
    const y = g.scope('layer.0', () => g.op.Tanh(g.op.Mul(x, w)));
    backward(g, g.op.ReduceSum(y, undefined, { keepdims: false }), [w]);
    const names = g.build().nodes.map((n) => n.name);
    expect(names).toContain('grad:layer.0/Tanh/Mul');
    expect(names).toContain('grad:layer.0/Mul/Mul');
  });

  it('keeps an embedding table gradient as rows', () => {
    const g = new GraphBuilder('t');
    const ids = g.input('ids', 'int64', ['batch', 'seq']);
    const table = g.param('embeddings.word_embeddings.weight', [1000, 16]);
    const loss = g.op.ReduceSum(g.op.Gather(table, ids), undefined, { keepdims: false });
    const { gradients } = backward(g, loss, [table]);
    const grad = gradients.get('embeddings.word_embeddings.weight');
    expect(grad?.kind).toBe('rows');
    if (grad?.kind !== 'rows') return;
    expect(grad.values.shape).toEqual(['batch*seq', 16]);
    expect(g.build().nodes.some((n) => n.opType === 'ScatterND' || n.opType === 'ConstantOfShape')).toBe(false);
  });
});

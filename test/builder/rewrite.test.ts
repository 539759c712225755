// Graph passes copy a graph node by node: a plain copy is the same graph, names and all.
import { describe, expect, it } from 'vitest';
import { denseWeight, GraphBuilder, rewriteGraph, rewriteInto, serialize } from '../../src/builder/index.ts';

function graph() {
  const g = new GraphBuilder('t');
  const x = g.input('x', 'float32', ['batch', 4]);
  const h = g.scope('layer', () => g.op.Relu(g.op.MatMul(x, g.param('kernel', [4, 3]))));
  g.output('y', g.op.Reshape(h, g.op.Shape(h)));
  return g.build();
}

describe('rewriteGraph', () => {
  it('copies a graph unchanged when the pass handles no node', () => {
    const source = graph();
    const copy = rewriteGraph(source, () => false);
    expect(serialize(copy)).toEqual(serialize(source));
  });

  it('builds replacements in the scope of the node they replace, dropping parameters no longer used', () => {
    const copy = rewriteGraph(graph(), (node, r) => {
      if (node.opType !== 'MatMul') return false;
      r.inScopeOf(node, () => r.replace(node.outputs[0]!, r.g.op.Identity(r.value(node.inputs[0]!))));
      return true;
    });
    expect(copy.nodes.map((n) => n.name)).toEqual(['layer/Identity', 'layer/Relu', 'Shape', 'Reshape', 'Identity']);
    expect(copy.params).toEqual([]);
  });

  it('says which value was used before it was made', () => {
    expect(() => rewriteGraph(graph(), (node) => node.opType === 'MatMul')).toThrow(/layer\/MatMul \(node\) is used before the node that makes it was copied or replaced/);
  });

  it('keeps the names a pass generates clear of the nodes and constants it has yet to copy', () => {
    // The source has layer/Relu and const_0 after the MatMul; the pass puts a Relu and a new constant in the
    // MatMul's place, in the same scope: without reserved names they would take layer/Relu and const_0.
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 4]);
    const h = g.scope('layer', () => g.op.Relu(g.op.MatMul(x, g.param('kernel', [4, 3]))));
    g.output('y', g.op.Add(h, g.constant({ dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) })));
    const copy = rewriteGraph(g.build(), (node, r) => {
      if (node.opType !== 'MatMul') return false;
      r.inScopeOf(node, () => {
        const bias = r.g.constant({ dtype: 'float32', shape: [3], data: new Float32Array([4, 5, 6]) });
        r.replace(node.outputs[0]!, r.g.op.Add(r.g.op.Relu(r.g.op.MatMul(r.value(node.inputs[0]!), r.value(node.inputs[1]!))), bias));
      });
      return true;
    });
    const names = copy.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['layer/Relu', 'layer/Relu_1']));
    expect(copy.constants.map((c) => c.name).sort()).toEqual(['const_0', 'const_1']);
  });
});

describe('rewriteInto', () => {
  it('hands back the builder and the copies of source values, to build on (autodiff from a loss\'s copy)', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 4]);
    const h = g.scope('layer', () => g.op.Relu(g.op.MatMul(x, g.param('kernel', [4, 3]))));
    const loss = g.op.ReduceSum(h, undefined, { keepdims: false }); // not a graph output
    const r = rewriteInto(g.build(), (node, r) => {
      if (node.opType !== 'MatMul') return false;
      // The node copied under its own name, its weight input replaced.
      r.inScopeOf(node, () => r.copy(node, [r.value(node.inputs[0]!), r.g.op.Neg(r.value(node.inputs[1]!))]));
      return true;
    });
    const lossCopy = r.value(loss);
    expect(lossCopy.name).toBe(loss.name);
    r.g.output('loss', lossCopy);
    const copy = r.g.build();
    expect(copy.nodes.map((n) => n.name)).toEqual(['layer/Neg', 'layer/MatMul', 'layer/Relu', 'ReduceSum', 'Identity']);
    expect(copy.nodes[1]?.inputs[1]?.producer?.node.opType).toBe('Neg');
    expect(copy.outputs.map((v) => v.name)).toEqual(['loss']);
  });
});

describe('denseWeight', () => {
  it('finds the 2-D parameter of MatMul and Gemm, with its output-channel axis', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 4]);
    g.op.MatMul(x, g.param('kernel', [4, 3]));
    g.op.Gemm(x, g.param('weight', [3, 4]), null, { transB: 1 });
    g.op.Gemm(x, g.param('w2', [4, 3]));
    g.op.MatMul(x, g.op.Transpose(x)); // activation × activation
    g.op.Gemm(g.op.Transpose(x), g.param('w3', [4, 3]), null, { transA: 1 });
    const found = g.build().nodes.filter((n) => n.opType === 'MatMul' || n.opType === 'Gemm').map((n) => {
      const d = denseWeight(n);
      return typeof d === 'object' ? [d.weight.name, d.outputAxis] : d;
    });
    expect(found).toEqual([['kernel', 1], ['weight', 0], ['w2', 1], undefined, 'Gemm reads its input transposed (transA)']);
  });
});

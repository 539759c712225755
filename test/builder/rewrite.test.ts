// Graph passes copy a graph node by node: a plain copy is the same graph, names and all.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, rewriteGraph, serialize } from '../../src/builder/index.ts';

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
});

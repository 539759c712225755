// Graph passes: copy a graph node by node into a fresh builder, letting the pass put other nodes in place of some.
// What the pass adds goes through shape inference like any built node; everything copied keeps its name.
import type { Graph, Node, Value } from '../ir/graph.ts';
import { GraphBuilder } from './builder.ts';

export class Rewriter {
  readonly g: GraphBuilder;
  private readonly values = new Map<Value, Value>();

  constructor(readonly source: Graph) {
    this.g = new GraphBuilder(source.name, source.opsets);
    this.g.reserve([...source.params, ...source.constants].map((v) => v.name));
    this.g.reserve(source.nodes.flatMap((n) => [n.name, ...n.outputs.map((v) => v.name)]));
    for (const v of source.inputs) this.values.set(v, this.g.input(v.name, v.dtype, v.shape));
  }

  /**
   * The copy of a source value. Parameters and constants are declared on first use, so those only the replaced
   * nodes used (a float weight swapped for its int8 copy) drop out of the new graph.
   */
  value(v: Value): Value {
    const known = this.values.get(v);
    if (known) return known;
    let copy: Value;
    if (v.kind === 'param') copy = this.g.paramNamed(v.name, v.shape as readonly number[], v.dtype);
    else if (v.kind === 'constant' && v.data) copy = this.g.constant(v.data, v.name);
    else throw new Error(`graph ${this.source.name}: ${v.name} (${v.kind}) is used before the node that makes it was copied or replaced`);
    this.values.set(v, copy);
    return copy;
  }

  /** Route the consumers of a source value to a value the pass made. */
  replace(source: Value, by: Value): void {
    if (this.values.has(source)) throw new Error(`graph ${this.source.name}: ${source.name} was already copied or replaced`);
    this.values.set(source, by);
  }

  /**
   * Copy a node as it is: same op, attributes and names. `inputs`, when given, stand in for the copies of its inputs
   * (a pass that puts fake quantization between a weight and its MatMul).
   */
  copy(node: Node, inputs: readonly (Value | null)[] = node.inputs.map((v) => (v ? this.value(v) : null))): void {
    const outputs = this.g.node(node.opType, inputs, node.attributes, {
      domain: node.domain,
      name: node.name,
      outputNames: node.outputs.map((v) => v.name),
      ...(node.stopGradient ? { stopGradient: true as const } : {}),
    });
    node.outputs.forEach((v, i) => this.values.set(v, outputs[i] as Value));
  }

  /** Build in the scope of a source node, so new nodes are named like their neighbours (`encoder.layer.3.output/…`). */
  inScopeOf<T>(node: Node, body: () => T): T {
    const slash = node.name.lastIndexOf('/');
    return slash < 0 ? body() : this.g.scope(node.name.slice(0, slash), body);
  }
}

/**
 * Rebuild `graph`: `visit` handles a node (emitting replacements through the Rewriter, or nothing to drop it) and
 * returns true, or returns false to have it copied. Graph inputs and outputs keep their names.
 */
export function rewriteGraph(graph: Graph, visit: (node: Node, r: Rewriter) => boolean): Graph {
  return rewriteInto(graph, visit).g.build();
}

/**
 * rewriteGraph without the final build: hands back the Rewriter, whose builder (`r.g`) holds the rewritten graph and
 * whose `value` maps a source value to its copy. A pass over a training graph's forward half uses it, so that its
 * caller can go on building on the copy (autodiff from the loss's copy, `r.value(loss)`).
 */
export function rewriteInto(graph: Graph, visit: (node: Node, r: Rewriter) => boolean): Rewriter {
  const r = new Rewriter(graph);
  for (const node of graph.nodes) if (!visit(node, r)) r.copy(node);
  for (const out of graph.outputs) {
    const v = r.value(out);
    if (v.name === out.name) r.g.markOutput(v);
    else r.g.output(out.name, v);
  }
  return r;
}

// The LayerNorms of an exported encoder, whatever their form: LayerNormalization, com.microsoft
// SkipLayerNormalization (residual and bias added inside), or the decomposed
// ReduceMean → Sub → Pow → ReduceMean → Add(ε) → Sqrt → Div → Mul(γ) → Add(β) of older exporters.
import { type OnnxGraph, type OnnxNode, shortestFloat32 } from './read.ts';

export interface Norm {
  /** Every node of the norm (one, or the nine of the decomposed form). */
  readonly nodes: readonly OnnxNode[];
  readonly output: string;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly eps: number;
  /** SkipLayerNormalization's bias, added to its input before the norm: the bias of the dense layer feeding it. */
  readonly bias: Float32Array | null;
}

const floats = (g: OnnxGraph, value: string | undefined): Float32Array | undefined => {
  const t = g.constant(value ?? '');
  return t && t.data instanceof Float32Array ? t.data : undefined;
};

function single(g: OnnxGraph, node: OnnxNode): Norm | undefined {
  if (node.opType === 'LayerNormalization' && node.domain === '') {
    const gamma = floats(g, node.inputs[1]);
    const beta = floats(g, node.inputs[2]) ?? (gamma ? new Float32Array(gamma.length) : undefined);
    if (!gamma || !beta || g.int(node, 'axis', -1) !== -1) return undefined;
    return { nodes: [node], output: node.outputs[0] ?? '', gamma, beta, eps: g.float(node, 'epsilon', 1e-5), bias: null };
  }
  if (node.opType === 'SkipLayerNormalization' && node.domain === 'com.microsoft') {
    const gamma = floats(g, node.inputs[2]);
    const beta = floats(g, node.inputs[3]) ?? (gamma ? new Float32Array(gamma.length) : undefined);
    if (!gamma || !beta) return undefined;
    return { nodes: [node], output: node.outputs[0] ?? '', gamma, beta, eps: g.float(node, 'epsilon', 1e-12), bias: floats(g, node.inputs[4]) ?? null };
  }
  return undefined;
}

/** The one consumer of `value` with this op type, if any. */
function next(g: OnnxGraph, value: string | undefined, opType: string): OnnxNode | undefined {
  return g.consumers(value ?? '').find((n) => n.opType === opType);
}

/** The other input of a binary node. */
const other = (node: OnnxNode, value: string | undefined): string => (node.inputs[0] === value ? node.inputs[1] : node.inputs[0]) ?? '';

function decomposed(g: OnnxGraph, mean: OnnxNode): Norm | undefined {
  if (mean.opType !== 'ReduceMean') return undefined;
  const x = mean.inputs[0];
  const sub = g.consumers(mean.outputs[0] ?? '').find((n) => n.opType === 'Sub' && n.inputs[0] === x);
  const d = sub?.outputs[0];
  const square = g.consumers(d ?? '').find((n) => (n.opType === 'Pow' && g.constant(n.inputs[1] ?? '')?.data[0] === 2) || (n.opType === 'Mul' && n.inputs[0] === d && n.inputs[1] === d));
  const variance = next(g, square?.outputs[0], 'ReduceMean');
  const addEps = next(g, variance?.outputs[0], 'Add');
  const sqrt = next(g, addEps?.outputs[0], 'Sqrt');
  const div = g.consumers(sqrt?.outputs[0] ?? '').find((n) => n.opType === 'Div' && n.inputs[0] === d);
  const mul = next(g, div?.outputs[0], 'Mul');
  const add = next(g, mul?.outputs[0], 'Add');
  if (!sub || !square || !variance || !addEps || !sqrt || !div || !mul || !add) return undefined;
  const eps = g.constant(other(addEps, variance?.outputs[0]))?.data[0];
  const gamma = floats(g, other(mul, div.outputs[0]));
  const beta = floats(g, other(add, mul.outputs[0]));
  if (eps === undefined || !gamma || !beta) return undefined;
  return { nodes: [mean, sub, square, variance, addEps, sqrt, div, mul, add], output: add.outputs[0] ?? '', gamma, beta, eps: shortestFloat32(eps), bias: null };
}

/** Every LayerNorm of the graph, by each of its nodes. */
export function findNorms(g: OnnxGraph): Map<OnnxNode, Norm> {
  const byNode = new Map<OnnxNode, Norm>();
  for (const node of g.nodes) {
    if (byNode.has(node)) continue;
    const norm = single(g, node) ?? decomposed(g, node);
    if (norm) for (const n of norm.nodes) byNode.set(n, norm);
  }
  return byNode;
}

// Dynamic int8 quantization of an inference graph: weights become int8 once, here; activations are quantized by
// ONNX Runtime on every run. Pattern → check → rewrite:
//   MatMul(A, W param) [→ Add(·, b param)]   ⇒ DynamicQuantizeMatMul(A, int8 W, scale, bias b)
//   Attention(x, W param, b param, mask)      ⇒ QAttention(DynamicQuantizeLinear(x), int8 W, b, …)  (option)
// Everything else stays fp32: embeddings (a lookup, no arithmetic to save; quantize-embeddings.ts stores the word
// table in int8 rows for size), LayerNorm, softmax, GELU, task heads.
// Error choices are in int8.ts.
import { XlmtError } from '../errors/index.ts';
import { denseWeight } from '../builder/dense-layer.ts';
import { type Rewriter, rewriteGraph } from '../builder/rewrite.ts';
import type { Graph, Node, Value } from '../ir/graph.ts';
import type { Parameter, ParamStore } from '../ir/params.ts';
import { quantizeWeight, type WeightBits } from './int8.ts';

export interface QuantizeOptions {
  /** One scale per output column of each weight, instead of one per weight. */
  readonly perChannel: boolean;
  /**
   * Also quantize Attention's packed QKV projection (a quarter of a layer's dense FLOPs) as QAttention on a
   * DynamicQuantizeLinear of its input. Default true: see docs/inference-graph.md for what it measured.
   */
  readonly attention?: boolean;
  /** 8 (default) or 7 bits per weight code: cpu-features.ts says which the serving CPU needs. */
  readonly weightBits?: WeightBits;
}

/** A node the pass looked at and left as it was, and why. */
export interface Skipped {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

export interface QuantizedGraph {
  readonly graph: Graph;
  /** The float parameters still used (int8 weights and their scales are constants inside the graph). */
  readonly params: ParamStore;
  readonly skipped: readonly Skipped[];
}

export interface WeightMatMul {
  readonly matmul: Node;
  readonly weight: Parameter;
  /** The Add of a 1-D bias parameter that alone consumes the product, folded into the quantized node. */
  readonly biasAdd?: { readonly node: Node; readonly bias: Value };
}

export interface PackedAttention {
  readonly node: Node;
  readonly weight: Parameter;
}

export type Match<T> = { readonly match: T } | { readonly reason: string } | undefined;

/** The 2-D float parameter behind `v`; a reason when it cannot be quantized; undefined when `v` is no parameter. */
export function floatMatrix(v: Value | null | undefined, params: ParamStore): Parameter | string | undefined {
  if (!v || v.kind !== 'param') return undefined;
  const p = params.get(v.name);
  if (!p) return `weight ${v.name} has no value in the parameter store`;
  if (p.shape.length !== 2) return `weight ${v.name} is [${p.shape.join(', ')}], not a 2-D [in, out] matrix`;
  return p;
}

export function matchWeightMatMul(graph: Graph, node: Node, params: ParamStore, consumers: ReadonlyMap<Value, readonly Node[]>): Match<WeightMatMul> {
  if (node.opType !== 'MatMul') return undefined; // the heads' Gemms stay fp32 (fused.ts)
  const dense = denseWeight(node);
  if (dense === undefined) return undefined; // activation × activation: nothing to quantize ahead of time
  if (typeof dense === 'string') return { reason: dense };
  const weight = floatMatrix(dense.weight, params);
  if (weight === undefined) return undefined;
  if (typeof weight === 'string') return { reason: weight };
  if (node.inputs[0]?.dtype !== 'float32') return { reason: `input A is ${node.inputs[0]?.dtype}, DynamicQuantizeMatMul takes float32` };
  const product = node.outputs[0] as Value;
  const users = consumers.get(product) ?? [];
  const add = users.length === 1 && !graph.outputs.includes(product) ? users[0] : undefined;
  if (add?.opType === 'Add' && add.domain === '') {
    const bias = add.inputs[0] === product ? add.inputs[1] : add.inputs[0];
    const columns = weight.shape[1];
    if (bias?.kind === 'param' && bias.shape.length === 1 && bias.shape[0] === columns) return { match: { matmul: node, weight, biasAdd: { node: add, bias } } };
  }
  return { match: { matmul: node, weight } };
}

export function matchPackedAttention(node: Node, params: ParamStore): Match<PackedAttention> {
  if (node.opType !== 'Attention' || node.domain !== 'com.microsoft') return undefined;
  const weight = floatMatrix(node.inputs[1], params);
  if (weight === undefined) return { reason: 'the QKV weight is not a parameter' };
  if (typeof weight === 'string') return { reason: weight };
  if (!node.inputs[2]) return { reason: 'QAttention needs the QKV bias' };
  if (node.inputs.slice(4).some((v) => v) || node.outputs.length > 1) return { reason: 'past/present state and attention_bias have no QAttention equivalent here' };
  const extra = Object.keys(node.attributes).filter((a) => a !== 'num_heads');
  if (extra.length > 0) return { reason: `attributes ${extra.join(', ')} are not carried over to QAttention` };
  return { match: { node, weight } };
}

/** The int8 codes and scales of a weight, as graph constants named after it (`<weight>_quantized`, `_scale`). */
export function int8Constants(r: Rewriter, weight: Parameter, perChannel: boolean, bits: WeightBits = 8): { codes: Value; scale: Value } {
  const [k, n] = weight.shape as [number, number];
  const q = quantizeWeight(weight.data, k, n, perChannel, bits);
  return {
    codes: r.g.constant({ dtype: 'int8', shape: [k, n], data: q.codes }, `${weight.name}_quantized`),
    scale: r.g.constant({ dtype: 'float32', shape: perChannel ? [n] : [], data: q.scales }, `${weight.name}_scale`),
  };
}

/**
 * Dynamic int8 quantization of every weight MatMul (and, by default, every Attention) of an inference graph such
 * as fusedInferenceGraph's. Returns a new graph; the input graph and store are left as they are.
 */
export function quantizeDynamicInt8(graph: Graph, params: ParamStore, options: QuantizeOptions): QuantizedGraph {
  const consumers = new Map<Value, Node[]>();
  for (const node of graph.nodes) {
    for (const v of node.inputs) if (v) consumers.set(v, [...(consumers.get(v) ?? []), node]);
  }
  const folded = new Set<Node>();
  const skipped: Skipped[] = [];
  const skip = (node: Node, reason: string): false => {
    skipped.push({ node: node.name, opType: node.opType, reason });
    return false;
  };
  const quantized = new Map<string, { codes: Value; scale: Value }>(); // a weight used twice is quantized once
  const int8 = (r: Rewriter, w: Parameter): { codes: Value; scale: Value } => {
    const known = quantized.get(w.name) ?? int8Constants(r, w, options.perChannel, options.weightBits);
    quantized.set(w.name, known);
    return known;
  };

  const rewritten = rewriteGraph(graph, (node, r) => {
    if (folded.has(node)) return true;
    const matmul = matchWeightMatMul(graph, node, params, consumers);
    if (matmul && 'reason' in matmul) return skip(node, matmul.reason);
    if (matmul) {
      const { weight, biasAdd } = matmul.match;
      if (biasAdd) folded.add(biasAdd.node);
      r.inScopeOf(node, () => {
        const w = int8(r, weight);
        const y = r.g.op.ms.DynamicQuantizeMatMul(r.value(node.inputs[0] as Value), w.codes, w.scale, null, biasAdd ? r.value(biasAdd.bias) : null);
        r.replace((biasAdd?.node ?? node).outputs[0] as Value, y);
      });
      return true;
    }
    if (options.attention === false) return false;
    const attention = matchPackedAttention(node, params);
    if (attention && 'reason' in attention) return skip(node, attention.reason);
    if (!attention) return false;
    r.inScopeOf(node, () => {
      const [x, , bias, mask] = node.inputs;
      const w = int8(r, attention.match.weight);
      const [xq, xScale, xZero] = r.g.op.DynamicQuantizeLinear(r.value(x as Value)) as [Value, Value, Value];
      const heads = node.attributes.num_heads;
      if (heads?.type !== 'int') throw new XlmtError({ code: 'INTERNAL', where: { api: 'quantizeDynamicInt8', node: node.name }, message: 'Attention without an int num_heads' });
      const y = r.g.op.ms.QAttention({
        input: xq, weight: w.codes, bias: r.value(bias as Value), inputScale: xScale, weightScale: w.scale,
        maskIndex: mask ? r.value(mask) : null, inputZeroPoint: xZero, weightZeroPoint: null,
      }, { num_heads: heads.value });
      r.replace(node.outputs[0] as Value, y);
    });
    return true;
  });

  return { graph: rewritten, params: keptParams(rewritten, params), skipped };
}

/**
 * The store entries a rewritten graph still declares. A parameter the given store lacked stays missing (serialize
 * names it); a pass only drops what it replaced.
 */
export function keptParams(rewritten: Graph, params: ParamStore): Map<string, Parameter> {
  const kept = new Map<string, Parameter>();
  for (const p of rewritten.params) {
    const stored = params.get(p.name);
    if (stored) kept.set(p.name, stored);
  }
  return kept;
}

// Dense layers as graph passes see them: a MatMul or Gemm whose weight is a 2-D parameter. The int8 export
// (export/quantize.ts) and quantization-aware training (compress/quantize/) decide alike which nodes these are.
import { attrInt, type Node, type Value } from '../ir/graph.ts';

export interface DenseWeight {
  readonly weight: Value;
  /** The weight's axis that indexes output channels: 1 for MatMul's [in, out], 0 for Gemm with transB ([out, in]). */
  readonly outputAxis: 0 | 1;
}

/**
 * The weight of a dense layer, a reason when the node multiplies by a parameter in a form passes do not handle, or
 * undefined for any other node (an activation times an activation, such as attention scores, is no dense layer).
 */
export function denseWeight(node: Node): DenseWeight | string | undefined {
  if (node.domain !== '' || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) return undefined;
  const weight = node.inputs[1];
  if (!weight || weight.kind !== 'param') return undefined;
  if (weight.shape.length !== 2) return `weight ${weight.name} is [${weight.shape.join(', ')}], not a 2-D matrix`;
  if (node.opType === 'MatMul') return { weight, outputAxis: 1 };
  if (attrInt(node, 'transA', 0) !== 0) return 'Gemm reads its input transposed (transA)';
  return { weight, outputAxis: attrInt(node, 'transB', 0) === 1 ? 0 : 1 };
}

// The weight-bearing nodes of an exported encoder, each read as y = x·W + b with W as [in, out] float32: MatMul and
// Gemm on float (or DequantizeLinear) weights, and the quantized forms ONNX Runtime's quantizers write, which are
// dequantized here (MatMulInteger, DynamicQuantizeMatMul, MatMulNBits), plus the packed QKV of (Q)Attention.
import { XlmtError } from '../../errors/index.ts';
import { type ConstTensor, dequantizeAlong, type OnnxGraph, type OnnxNode, transpose2d } from './read.ts';

/** How a weight was stored in the file, when not as float. */
export type Quantization = 'int8 (DequantizeLinear)' | 'int8 (MatMulInteger)' | 'int8 (DynamicQuantizeMatMul)' | 'int8 (QAttention)' | '4-bit (MatMulNBits)';

export interface Linear {
  readonly node: OnnxNode;
  /** The activation multiplied (before any dynamic quantization of it). */
  readonly input: string;
  /** The result, after the bias when an Add of a constant vector follows. */
  readonly output: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [in, out], row-major. */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly quantization: Quantization | null;
  /** Activations quantized at run time (MatMulInteger, DynamicQuantizeMatMul, QAttention): the file is not exact fp32. */
  readonly dynamic: boolean;
}

export interface PackedAttention {
  readonly node: OnnxNode;
  readonly input: string;
  readonly output: string;
  readonly heads: number;
  /** Query, key and value as linears over the same input. */
  readonly qkv: readonly [Linear, Linear, Linear];
  readonly quantization: Quantization | null;
}

const floatMatrix = (t: ConstTensor | undefined): t is ConstTensor => t !== undefined && t.shape.length === 2 && t.data instanceof Float32Array;

/** Whether a constant came out of a DequantizeLinear. */
function viaDequantize(g: OnnxGraph, value: string): boolean {
  for (let node = g.producer(value); node; node = g.producer(node.inputs[0] ?? '')) {
    if (node.opType === 'DequantizeLinear') return true;
  }
  return false;
}

/** The node's own output, then a following Add of a constant [out] vector when the product feeds only that. */
function withBias(g: OnnxGraph, value: string, out: number): { output: string; bias: Float32Array | null } {
  const users = g.consumers(value);
  const add = users.length === 1 ? users[0] : undefined;
  if (add?.opType === 'Add' && add.domain === '') {
    const other = add.inputs[0] === value ? add.inputs[1] : add.inputs[0];
    const bias = g.constant(other ?? '');
    if (bias && bias.data instanceof Float32Array && bias.data.length === out && bias.shape.filter((d) => d !== 1).length <= 1) {
      return { output: add.outputs[0] ?? '', bias: bias.data };
    }
  }
  return { output: value, bias: null };
}

function make(g: OnnxGraph, node: OnnxNode, input: string, product: string, w: ConstTensor, quantization: Quantization | null, dynamic: boolean, bias?: Float32Array | null): Linear {
  const [inFeatures, outFeatures] = w.shape as [number, number];
  const tail = bias === undefined ? withBias(g, product, outFeatures) : { output: product, bias };
  return { node, input, inFeatures, outFeatures, weight: w.data as Float32Array, quantization, dynamic, ...tail };
}

/** The node as a linear layer with a constant weight, or undefined (activation × activation, or not a product). */
export function asLinear(g: OnnxGraph, node: OnnxNode): Linear | undefined {
  const [a = '', b = ''] = node.inputs;
  const out = node.outputs[0] ?? '';
  if (node.domain === '' && node.opType === 'MatMul') {
    const w = g.constant(b);
    return floatMatrix(w) ? make(g, node, a, out, w, viaDequantize(g, b) ? 'int8 (DequantizeLinear)' : null, false) : undefined;
  }
  if (node.domain === '' && node.opType === 'Gemm') {
    const w = g.constant(b);
    if (!floatMatrix(w) || g.int(node, 'transA', 0) !== 0 || g.float(node, 'alpha', 1) !== 1) return undefined;
    const kernel = g.int(node, 'transB', 0) ? transpose2d(w) : w;
    const c = g.constant(node.inputs[2] ?? '');
    const bias = c ? Float32Array.from(c.data, (v) => v * g.float(node, 'beta', 1)) : undefined;
    return make(g, node, a, out, kernel, viaDequantize(g, b) ? 'int8 (DequantizeLinear)' : null, false, bias);
  }
  if (node.domain === '' && node.opType === 'MatMulInteger') return matMulInteger(g, node);
  if (node.domain === 'com.microsoft' && node.opType === 'DynamicQuantizeMatMul') {
    const w = g.constant(b);
    const scale = g.constant(node.inputs[2] ?? '');
    if (!w || !scale || w.shape.length !== 2) return undefined;
    const zero = g.constant(node.inputs[3] ?? '');
    const bias = g.constant(node.inputs[4] ?? '');
    const weight = { shape: w.shape, elemType: 1, data: dequantizeAlong(w, scale.data, zero?.data, 1) };
    return make(g, node, a, out, weight, 'int8 (DynamicQuantizeMatMul)', true, bias ? Float32Array.from(bias.data) : undefined);
  }
  if (node.domain === 'com.microsoft' && node.opType === 'MatMulNBits') {
    const bias = g.constant(node.inputs[5] ?? '');
    return make(g, node, a, out, matMulNBitsWeight(g, node), '4-bit (MatMulNBits)', false, bias ? Float32Array.from(bias.data) : undefined);
  }
  return undefined;
}

/**
 * ONNX Runtime's quantize_dynamic form: MatMulInteger(DynamicQuantizeLinear(x), W int8, x zero point, W zero point)
 * → Cast(float) → Mul(·, x scale · W scale). The weight's scale is the constant factor of that last product.
 */
function matMulInteger(g: OnnxGraph, node: OnnxNode): Linear | undefined {
  const w = g.constant(node.inputs[1] ?? '');
  if (!w || w.shape.length !== 2) return undefined;
  const cast = g.consumers(node.outputs[0] ?? '')[0];
  const mul = cast?.opType === 'Cast' ? g.consumers(cast.outputs[0] ?? '')[0] : undefined;
  if (!cast || mul?.opType !== 'Mul') return undefined;
  const factor = mul.inputs.find((v) => v !== cast.outputs[0]) ?? '';
  const scales = g.producer(factor)?.opType === 'Mul' ? g.producer(factor)?.inputs ?? [] : [factor];
  const scale = scales.map((v) => g.constant(v)).find((t) => t !== undefined);
  if (!scale) return undefined;
  const zero = g.constant(node.inputs[3] ?? '');
  const weight = { shape: w.shape, elemType: 1, data: dequantizeAlong(w, scale.data, zero?.data, 1) };
  return make(g, node, dataInput(g, node.inputs[0] ?? ''), mul.outputs[0] ?? '', weight, 'int8 (MatMulInteger)', true);
}

/** What was quantized at run time: the input of the DynamicQuantizeLinear feeding `value`, else `value`. */
function dataInput(g: OnnxGraph, value: string): string {
  const p = g.producer(value);
  return p?.opType === 'DynamicQuantizeLinear' ? (p.inputs[0] ?? value) : value;
}

/**
 * MatMulNBits' B is [N, blocks, blockSize·bits/8] codes, low nibble first, with one scale per (column, block) and
 * zero points packed the same way (default 2^(bits−1)); K rows beyond the last full block are padding. → [K, N].
 */
function matMulNBitsWeight(g: OnnxGraph, node: OnnxNode): ConstTensor {
  const k = g.int(node, 'K', 0);
  const n = g.int(node, 'N', 0);
  const bits = g.int(node, 'bits', 4);
  const blockSize = g.int(node, 'block_size', 0);
  const codes = g.constant(node.inputs[1] ?? '');
  const scales = g.constant(node.inputs[2] ?? '');
  const zeros = g.constant(node.inputs[3] ?? '');
  if (bits !== 4 || !codes || !scales || blockSize <= 0 || node.inputs[4]) {
    throw new XlmtError({
      code: 'UNSUPPORTED',
      where: { file: g.source, node: node.name },
      message: 'a MatMulNBits node xlmt cannot dequantize',
      expected: '4-bit codes, constant scales, block_size, no g_idx',
      received: `bits ${bits}, block_size ${blockSize}${node.inputs[4] ? ', g_idx' : ''}`,
    });
  }
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const zeroBytes = Math.ceil(blocks / 2);
  const out = new Float32Array(k * n);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      const scale = scales.data[col * blocks + b] as number;
      let zero = 8;
      if (zeros && zeros.elemType === 2) {
        const byte = zeros.data[col * zeroBytes + (b >> 1)] as number;
        zero = b % 2 === 0 ? byte & 0x0f : byte >> 4;
      } else if (zeros) zero = zeros.data[col * blocks + b] as number;
      for (let j = 0; j < blockSize && b * blockSize + j < k; j++) {
        const byte = codes.data[(col * blocks + b) * blob + (j >> 1)] as number;
        const q = j % 2 === 0 ? byte & 0x0f : byte >> 4;
        out[(b * blockSize + j) * n + col] = (q - zero) * scale;
      }
    }
  }
  return { shape: [k, n], elemType: 1, data: out };
}

/** com.microsoft Attention (or QAttention) with a packed [hidden, 3·hidden] weight: split into Q, K, V. */
export function asPackedAttention(g: OnnxGraph, node: OnnxNode): PackedAttention | undefined {
  if (node.domain !== 'com.microsoft' || (node.opType !== 'Attention' && node.opType !== 'QAttention')) return undefined;
  const quantized = node.opType === 'QAttention';
  const w = g.constant(node.inputs[1] ?? '');
  const b = g.constant(node.inputs[2] ?? '');
  const heads = g.int(node, 'num_heads', 0);
  if (!w || !b || w.shape.length !== 2 || node.attributes.has('qkv_hidden_sizes') || heads <= 0) return undefined;
  const scale = quantized ? g.constant(node.inputs[4] ?? '') : undefined;
  if (quantized && !scale) return undefined;
  const kernel = scale ? dequantizeAlong(w, scale.data, g.constant(node.inputs[7] ?? '')?.data, 1) : (w.data as Float32Array);
  const [h, three] = w.shape as [number, number];
  const part = three / 3;
  const input = quantized ? dataInput(g, node.inputs[0] ?? '') : (node.inputs[0] ?? '');
  const quantization: Quantization | null = quantized ? 'int8 (QAttention)' : viaDequantize(g, node.inputs[1] ?? '') ? 'int8 (DequantizeLinear)' : null;
  const slice = (i: number): Linear => {
    const weight = new Float32Array(h * part);
    for (let r = 0; r < h; r++) weight.set(kernel.subarray(r * three + i * part, r * three + (i + 1) * part), r * part);
    return { node, input, output: node.outputs[0] ?? '', inFeatures: h, outFeatures: part, weight, bias: Float32Array.from(b.data.subarray(i * part, (i + 1) * part)), quantization, dynamic: quantized };
  };
  return { node, input, output: node.outputs[0] ?? '', heads, qkv: [slice(0), slice(1), slice(2)], quantization };
}

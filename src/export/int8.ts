// Symmetric int8 weights for ONNX Runtime's dynamic quantization kernels (DynamicQuantizeMatMul, QAttention).
//
// Error choices:
// - Symmetric, zero point 0: trained transformer weights are centred on 0, so an asymmetric range buys almost
//   nothing, and a zero point of 0 spares the integer GEMM its correction terms for B.
// - Codes -127…127, not -128: the range stays symmetric, so +max and −max round alike.
// - Round to nearest, step = max|w|/127: each weight is off by at most step/2, with a standard deviation of
//   step/√12 ≈ 0.23 % of max|w|; a dot product with x is then off by about that times ‖x‖ (independent errors).
// - Per tensor, one scale per weight: one large weight widens the step for every column. Per channel, one scale
//   per output column [N]: an outlier column costs only itself. Both are offered; per channel is the safer default.
// - Activations are quantized per tensor to uint8: by ONNX Runtime at run time over the tensor's own min and max
//   (dynamic exports), or over fixed calibrated ranges (static exports, quantize-static.ts). They are the larger
//   error source (hidden states have a few outlier dimensions), and the reason the int8 graph is checked against
//   the fp32 one on real data before it is kept.
// - Weight bits (cpu-features.ts chooses them): on x86 without VNNI the u8·s8 kernels add pairs of products in 16
//   bits, 2·255·127 = 64770 > 32767, and can saturate; 7-bit weights (codes −63…63, step max|w|/63, twice the
//   8-bit step) keep every pair within 2·255·63 = 32130. With VNNI the products are summed in 32 bits: full 8 bits.
// - The word-embedding table is no weight of a product but a lookup: one scale per row (quantizeRows), and its rows
//   are dequantized to float right after the gather (quantize-embeddings.ts), so no activation is quantized for it.

import { XlmtError } from '../errors/index.ts';

export interface Int8Weight {
  /** Codes, same layout as the float weight [K, N]. */
  readonly codes: Int8Array;
  /** One scale (per tensor), one per column N (per channel), or one per row (lookup tables): w ≈ code · scale. */
  readonly scales: Float32Array;
}

const MAX_CODE = 127;

/** 8: codes −127…127; 7: codes −63…63 (ONNX Runtime's "reduce_range"), for CPUs whose kernels sum in 16 bits. */
export type WeightBits = 7 | 8;

/** The largest weight code of a bit width: 127 or 63. */
export const maxWeightCode = (bits: WeightBits): number => 2 ** (bits - 1) - 1;

/** Quantize a [K, N] weight (K inputs, N output columns) to symmetric int8 (codes within ±maxWeightCode(bits)). */
export function quantizeWeight(data: Float32Array, k: number, n: number, perChannel: boolean, bits: WeightBits = 8): Int8Weight {
  if (data.length !== k * n) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizeWeight' }, message: 'the values do not fit the shape', expected: `${k * n} values for [${k}, ${n}]`, received: `${data.length} values` });
  const maxAbs = new Float32Array(perChannel ? n : 1);
  for (let i = 0; i < data.length; i++) {
    const c = perChannel ? i % n : 0;
    maxAbs[c] = Math.max(maxAbs[c] as number, Math.abs(data[i] as number));
  }
  // An all-zero column gets scale 1: its codes are 0 either way, and no division by 0.
  const top = maxWeightCode(bits);
  const scales = maxAbs.map((m) => (m > 0 ? m / top : 1));
  const codes = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const q = Math.round((data[i] as number) / (scales[perChannel ? i % n : 0] as number));
    codes[i] = Math.max(-top, Math.min(top, q));
  }
  return { codes, scales };
}

/** code · scale, the weight the int8 kernels effectively multiply by. */
export function dequantizeWeight(w: Int8Weight, n: number): Float32Array {
  const out = new Float32Array(w.codes.length);
  const perChannel = w.scales.length > 1;
  for (let i = 0; i < out.length; i++) out[i] = (w.codes[i] as number) * (w.scales[perChannel ? i % n : 0] as number);
  return out;
}

/**
 * Quantize a lookup table [rows, width] to symmetric int8 with one scale per row (max|row| / 127). A table is read a
 * row at a time (one row per token), so each row's range is its own: a row of large values costs no precision in
 * the others, and each value is off by at most its row's step / 2.
 */
export function quantizeRows(data: Float32Array, rows: number, width: number): Int8Weight {
  if (data.length !== rows * width) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizeRows' }, message: 'the values do not fit the shape', expected: `${rows * width} values for [${rows}, ${width}]`, received: `${data.length} values` });
  const codes = new Int8Array(data.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * width, (r + 1) * width);
    let maxAbs = 0;
    for (let i = 0; i < width; i++) maxAbs = Math.max(maxAbs, Math.abs(row[i] as number));
    const scale = maxAbs > 0 ? Math.fround(maxAbs / MAX_CODE) : 1; // an all-zero row (padding): codes 0, no division by 0
    scales[r] = scale;
    for (let i = 0; i < width; i++) codes[r * width + i] = Math.max(-MAX_CODE, Math.min(MAX_CODE, Math.round((row[i] as number) / scale)));
  }
  return { codes, scales };
}

/** code · scale of its row: the table the int8 lookup effectively reads. */
export function dequantizeRows(w: Int8Weight, width: number): Float32Array {
  const out = new Float32Array(w.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = (w.codes[i] as number) * (w.scales[Math.floor(i / width)] as number);
  return out;
}

// safetensors element types: sizes, the writer's ordering, conversion of float tensors to Float32, and the scan
// that finds NaN and infinite values.
import { XlmtError } from '../errors/index.ts';

/** The dtypes this reader accepts, in the reference implementation's enum order (increasing alignment). */
export const SAFETENSORS_DTYPES = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** Dtypes that load as Float32 parameters. */
export const FLOAT_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16', 'F64'];

export const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export function isSafetensorsDType(name: string): name is SafetensorsDType {
  return (SAFETENSORS_DTYPES as readonly string[]).includes(name);
}

/** Position in the reference enum; the writer puts higher ranks first so every tensor stays naturally aligned. */
export function dtypeRank(dtype: SafetensorsDType): number {
  return SAFETENSORS_DTYPES.indexOf(dtype);
}

// Typed-array views read the host's byte order; safetensors is little-endian. Every platform Node supports for
// this project is little-endian, so a big-endian host is refused rather than silently byte-swapped.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function assertLittleEndian(where: string): void {
  if (!LITTLE_ENDIAN) {
    throw new XlmtError({ code: 'UNSUPPORTED', where: { api: where }, message: 'safetensors data is little-endian and this host is big-endian; not supported' });
  }
}

/** IEEE 754 binary16 bits to a number, exactly (every half value is representable as a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const float32Word = new Float32Array(1);
const float32Bits = new Uint32Array(float32Word.buffer);

/**
 * A number's float32 rounding to IEEE 754 binary16 bits, rounded to nearest, ties to even (numpy's
 * npy_floatbits_to_halfbits). Beyond ±65504 (rounding included) gives ±Inf; NaN stays NaN.
 */
export function floatToHalf(value: number): number {
  float32Word[0] = value;
  const f = float32Bits[0] as number;
  const sign = (f >>> 16) & 0x8000;
  const exponent = f & 0x7f800000;
  const significand = f & 0x007fffff;
  if (exponent >= 0x47800000) {
    if (exponent === 0x7f800000 && significand !== 0) return sign | 0x7e00; // NaN
    return sign | 0x7c00; // Inf, or too large for a half
  }
  if (exponent <= 0x38000000) {
    if (exponent < 0x33000000) return sign; // below half the smallest subnormal: signed zero
    const e = exponent >>> 23;
    let sig = (0x00800000 + significand) >>> (113 - e);
    // Round half to even: the shift may have dropped up to 11 bits of the original, so those count too.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign + (sig >>> 13); // a carry into the exponent gives the smallest normal, correctly
  }
  let sig = significand;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  // A carry out of the significand increments the exponent (up to Inf), which is the right rounding.
  return sign + (((exponent - 0x38000000) >>> 13) + (sig >>> 13));
}

// A table of all 65,536 halves turns conversion into one lookup per element; built on first use (256 KB).
let halfTable: Float32Array | undefined;

function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

/** bfloat16 bits to a number: the top half of a float32, so exact, NaN payloads included. */
export function bfloat16ToFloat(bits: number): number {
  const word = new Uint32Array([bits << 16]);
  return new Float32Array(word.buffer)[0] ?? NaN;
}

/** A typed view of `bytes` when it is aligned for `size`-byte elements, else an aligned copy's bytes. */
function aligned(bytes: Uint8Array, size: number): { buffer: ArrayBufferLike; offset: number; copied: boolean } {
  if (bytes.byteOffset % size === 0) return { buffer: bytes.buffer, offset: bytes.byteOffset, copied: false };
  return { buffer: bytes.slice().buffer, offset: 0, copied: true };
}

export interface Float32Conversion {
  readonly data: Float32Array;
  /** True when `data` shares memory with the file's bytes: an aligned F32 tensor needs no copy. */
  readonly shared: boolean;
}

/**
 * Float32 values of a float tensor's little-endian bytes. F32 comes back as a view when 4-byte aligned (a copy
 * otherwise); F16 and BF16 widen exactly; F64 rounds to nearest float32. Throws for other dtypes.
 */
export function toFloat32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Conversion {
  assertLittleEndian('toFloat32');
  const size = DTYPE_SIZE[dtype];
  const count = bytes.byteLength / size;
  switch (dtype) {
    case 'F32': {
      const view = aligned(bytes, 4);
      return { data: new Float32Array(view.buffer, view.offset, count), shared: !view.copied };
    }
    case 'F16': {
      const view = aligned(bytes, 2);
      const halves = new Uint16Array(view.buffer, view.offset, count);
      const table = halfLookup();
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = table[halves[i]!]!;
      return { data, shared: false };
    }
    case 'BF16': {
      const view = aligned(bytes, 2);
      const halves = new Uint16Array(view.buffer, view.offset, count);
      const data = new Float32Array(count);
      const words = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) words[i] = halves[i]! << 16;
      return { data, shared: false };
    }
    case 'F64': {
      const view = aligned(bytes, 8);
      return { data: Float32Array.from(new Float64Array(view.buffer, view.offset, count)), shared: false };
    }
    default:
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'toFloat32' }, message: 'not a float dtype', expected: `one of ${FLOAT_DTYPES.join(', ')}`, received: dtype });
  }
}

// The exponent bits that are all ones exactly for NaN and ±Inf, per 16- or 32-bit word.
const F32_EXPONENT = 0x7f800000;
const F16_EXPONENT = 0x7c00;
const BF16_EXPONENT = 0x7f80;

/**
 * Index of the first NaN or infinite element of a tensor's little-endian bytes, or -1 (always for integer
 * dtypes). One pass of integer masks over the words (about 1 ns per element), so every load can afford it. F64
 * values outside float32's range count too: they would load as ±Inf.
 */
export function firstNonFinite(dtype: SafetensorsDType, bytes: Uint8Array): number {
  assertLittleEndian('firstNonFinite');
  const count = bytes.byteLength / DTYPE_SIZE[dtype];
  switch (dtype) {
    case 'F32': {
      const view = aligned(bytes, 4);
      return firstMasked(new Uint32Array(view.buffer, view.offset, count), F32_EXPONENT);
    }
    case 'F16':
    case 'BF16': {
      const view = aligned(bytes, 2);
      return firstMasked(new Uint16Array(view.buffer, view.offset, count), dtype === 'F16' ? F16_EXPONENT : BF16_EXPONENT);
    }
    case 'F64': {
      const view = aligned(bytes, 8);
      const values = new Float64Array(view.buffer, view.offset, count);
      for (let i = 0; i < count; i++) if (!Number.isFinite(Math.fround(values[i]!))) return i;
      return -1;
    }
    default:
      return -1;
  }
}

function firstMasked(words: Uint32Array | Uint16Array, mask: number): number {
  for (let i = 0; i < words.length; i++) if ((words[i]! & mask) === mask) return i;
  return -1;
}

/** Element `index` of a float tensor's bytes, as stored (an F64 beyond float32's range stays as it is). */
export function floatAt(dtype: SafetensorsDType, bytes: Uint8Array, index: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      return view.getFloat32(index * 4, true);
    case 'F16':
      return halfToFloat(view.getUint16(index * 2, true));
    case 'BF16':
      return bfloat16ToFloat(view.getUint16(index * 2, true));
    case 'F64':
      return view.getFloat64(index * 8, true);
    default:
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'floatAt' }, message: 'not a float dtype', expected: `one of ${FLOAT_DTYPES.join(', ')}`, received: dtype });
  }
}

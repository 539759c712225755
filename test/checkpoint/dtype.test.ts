// Half, bfloat16 and double conversion to float32, against values computed by hand from the bit patterns.
import { describe, expect, it } from 'vitest';
import { bfloat16ToFloat, halfToFloat, toFloat32 } from '../../src/checkpoint/index.ts';
import { f32Bytes, u16Bytes } from './helpers.ts';

// [bits, value]: sign · 2^(exponent − 15) · (1 + fraction/1024), subnormals fraction · 2^−24.
const HALVES: readonly (readonly [number, number])[] = [
  [0x0000, 0],
  [0x3c00, 1],
  [0xc000, -2],
  [0x3555, 0.333251953125], // 2^-2 · (1 + 341/1024)
  [0x7bff, 65504], // largest finite half
  [0x0400, 6.103515625e-5], // smallest normal, 2^-14
  [0x03ff, 6.097555160522461e-5], // largest subnormal, 1023 · 2^-24
  [0x0001, 5.960464477539063e-8], // smallest subnormal, 2^-24
  [0x7c00, Infinity],
  [0xfc00, -Infinity],
];

// [bits, value]: the top 16 bits of a float32.
const BFLOATS: readonly (readonly [number, number])[] = [
  [0x3f80, 1],
  [0xc049, -3.140625], // -(1 + 0x49/128) · 2
  [0x3e80, 0.25],
  [0x4049, 3.140625],
  [0x0001, 9.183549615799121e-41], // 2^-133, a float32 subnormal
  [0x7f80, Infinity],
];

describe('halfToFloat', () => {
  it.each(HALVES.map(([bits, value]) => [bits.toString(16), bits, value] as const))('0x%s is %s', (_, bits, value) => {
    expect(halfToFloat(bits)).toBe(value);
  });

  it('keeps the sign of zero and maps NaN patterns to NaN', () => {
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0xfc01)).toBeNaN();
  });
});

describe('bfloat16ToFloat', () => {
  it.each(BFLOATS.map(([bits, value]) => [bits.toString(16), bits, value] as const))('0x%s is %s', (_, bits, value) => {
    expect(bfloat16ToFloat(bits)).toBe(value);
  });
});

describe('toFloat32', () => {
  it('widens F16 tensors through the lookup table', () => {
    const { data, shared } = toFloat32('F16', Uint8Array.from(u16Bytes(HALVES.map(([b]) => b))));
    expect(Array.from(data)).toEqual(HALVES.map(([, v]) => v));
    expect(shared).toBe(false);
  });

  it('widens BF16 tensors bit-exactly, NaN payloads included', () => {
    const { data } = toFloat32('BF16', Uint8Array.from(u16Bytes([...BFLOATS.map(([b]) => b), 0x7fc1])));
    expect(Array.from(data.subarray(0, BFLOATS.length))).toEqual(BFLOATS.map(([, v]) => v));
    expect(new Uint32Array(data.buffer)[BFLOATS.length]).toBe(0x7fc10000);
  });

  it('rounds F64 to the nearest float32', () => {
    const bytes = new Uint8Array(Float64Array.from([0.1, 1 / 3, 1e300]).buffer);
    expect(Array.from(toFloat32('F64', bytes).data)).toEqual([0.10000000149011612, 0.3333333432674408, Infinity]);
  });

  it('views aligned F32 bytes without copying', () => {
    const bytes = Uint8Array.from([0, 0, 0, 0, ...f32Bytes([1.5, -2])]);
    const { data, shared } = toFloat32('F32', bytes.subarray(4));
    expect(shared).toBe(true);
    expect(data.buffer).toBe(bytes.buffer);
    expect(Array.from(data)).toEqual([1.5, -2]);
  });

  it('copies misaligned F32 and F16 bytes', () => {
    const bytes = Uint8Array.from([0, ...f32Bytes([1.5, -2])]);
    const f32 = toFloat32('F32', bytes.subarray(1));
    expect(f32.shared).toBe(false);
    expect(Array.from(f32.data)).toEqual([1.5, -2]);
    const halves = Uint8Array.from([0, ...u16Bytes([0x3c00, 0xc000])]);
    expect(Array.from(toFloat32('F16', halves.subarray(1)).data)).toEqual([1, -2]);
  });

  it('refuses integer dtypes', () => {
    expect(() => toFloat32('I64', new Uint8Array(8))).toThrow('toFloat32: not a float dtype (expected one of F32, F16, BF16, F64; received I64)');
  });
});

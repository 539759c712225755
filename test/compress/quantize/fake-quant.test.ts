// Fake quantization as training graphs use it (float32): weights quantized per output channel exactly as the int8
// export quantizes them, the straight-through gradient inside and outside a range, all-zero channels, bad scales.
import { describe, expect, it } from 'vitest';
import { backward } from '../../../src/autodiff/index.ts';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { fakeQuantize, maxAbsScale, rowScale, scaleOfRange } from '../../../src/compress/quantize/fake-quant.ts';
import { XlmtError } from '../../../src/errors/index.ts';
import { dequantizeRows, dequantizeWeight, maxWeightCode, quantizeRows, quantizeWeight } from '../../../src/export/int8.ts';
import type { Value } from '../../../src/ir/graph.ts';
import { tensorFromNumbers } from '../../../src/ir/tensor.ts';
import { mulberry32, numbers, runGraph } from '../../autodiff/gradcheck.ts';

/** A [rows, cols] float32 weight of normal-ish values with one large outlier per column. */
function weight(rows: number, cols: number, seed: number): number[] {
  const rng = mulberry32(seed);
  const w = Array.from({ length: rows * cols }, () => Math.fround((rng() + rng() + rng() - 1.5) * 0.1));
  for (let c = 0; c < cols; c++) w[((c * 7) % rows) * cols + c] = Math.fround((c + 1) * 0.3 * (c % 2 === 0 ? 1 : -1));
  return w;
}

function transpose(values: readonly number[], rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, i) => values[(i % rows) * cols + Math.floor(i / rows)] as number);
}

async function quantizedWeight(values: readonly number[], shape: [number, number], axis: 0 | 1, maxCode?: number): Promise<number[]> {
  const g = new GraphBuilder('weight_quant');
  const w = g.input('w', 'float32', shape);
  const options = maxCode === undefined ? { axis } : { axis, maxCode };
  g.output('q', fakeQuantize(g, w, maxAbsScale(g, w, options), options));
  return numbers((await runGraph(g.build(), { w: tensorFromNumbers('float32', shape, [...values]) })).q, 'q');
}

describe('fake quantization of weights', () => {
  const [k, n] = [24, 5]; // 24 inputs, 5 output channels
  const kernel = weight(k, n, 3); // [in, out], as the export's MatMul reads it

  it('per output channel of an [in, out] weight: the int8 export dequantized, value for value', async () => {
    const exported = Array.from(dequantizeWeight(quantizeWeight(Float32Array.from(kernel), k, n, true), n));
    expect(await quantizedWeight(kernel, [k, n], 1)).toEqual(exported);
  });

  it('per output channel of an [out, in] weight (Gemm with transB): the same values, transposed', async () => {
    const exported = Array.from(dequantizeWeight(quantizeWeight(Float32Array.from(kernel), k, n, true), n));
    expect(await quantizedWeight(transpose(kernel, k, n), [n, k], 0)).toEqual(transpose(exported, k, n));
  });

  it('per channel is finer than per tensor: the large columns do not widen the step of the small ones', async () => {
    const perChannel = await quantizedWeight(kernel, [k, n], 1);
    const g = new GraphBuilder('per_tensor');
    const w = g.input('w', 'float32', [k, n]);
    g.output('q', fakeQuantize(g, w, maxAbsScale(g, w)));
    const perTensor = numbers((await runGraph(g.build(), { w: tensorFromNumbers('float32', [k, n], kernel) })).q, 'q');
    const error = (q: readonly number[]): number => q.reduce((sum, v, i) => sum + (v - (kernel[i] as number)) ** 2, 0);
    expect(error(perChannel)).toBeLessThan(error(perTensor) / 2);
    expect(perTensor).toEqual(Array.from(dequantizeWeight(quantizeWeight(Float32Array.from(kernel), k, n, false), n)));
  });

  it('on the 7-bit grid (codes −63…63): the 7-bit int8 export dequantized, value for value, and coarser than 8 bits', async () => {
    const exported = Array.from(dequantizeWeight(quantizeWeight(Float32Array.from(kernel), k, n, true, 7), n));
    const seven = await quantizedWeight(kernel, [k, n], 1, maxWeightCode(7));
    expect(seven).toEqual(exported);
    expect(seven).not.toEqual(await quantizedWeight(kernel, [k, n], 1));
    // At most 63 distinct magnitudes per channel besides 0, the channel's max|w| among them.
    for (let c = 0; c < n; c++) {
      const column = Array.from({ length: k }, (_, r) => Math.abs(seven[r * n + c] as number));
      const top = Math.max(...column);
      for (const v of column) expect(Math.abs(Math.round((v / top) * 63) - (v / top) * 63)).toBeLessThan(1e-4);
    }
  });

  it('gives an all-zero channel scale 1: zeros out, no NaN', async () => {
    const values = [...kernel];
    for (let r = 0; r < k; r++) values[r * n + 2] = 0;
    const q = await quantizedWeight(values, [k, n], 1);
    expect(q.every(Number.isFinite)).toBe(true);
    expect(Array.from({ length: k }, (_, r) => q[r * n + 2])).toEqual(new Array(k).fill(0));
  });
});

describe('fake quantization of looked-up embedding rows', () => {
  it('one scale per row: the int8 export\'s table rows, dequantized', async () => {
    const [rows, width] = [6, 5];
    const table = weight(rows, width, 8);
    const ids = [4, 0, 4, 2, 5, 1]; // [2, 3], a row looked up twice
    const g = new GraphBuilder('rows');
    const t = g.input('table', 'float32', [rows, width]);
    const looked = g.op.Gather(t, g.input('ids', 'int64', [2, 3]), 0); // [2, 3, width]
    g.output('q', fakeQuantize(g, looked, rowScale(g, looked)));
    const out = await runGraph(g.build(), { table: tensorFromNumbers('float32', [rows, width], table), ids: tensorFromNumbers('int64', [2, 3], ids) });
    const exported = Array.from(dequantizeRows(quantizeRows(Float32Array.from(table), rows, width), width));
    expect(numbers(out.q, 'q')).toEqual(ids.flatMap((id) => exported.slice(id * width, (id + 1) * width)));
  });
});

describe('the straight-through estimator in float32', () => {
  it('passes the gradient where |x| ≤ range and blocks it outside; the range gets none', async () => {
    const g = new GraphBuilder('ste');
    const x = g.input('x', 'float32', [8]);
    const range = g.input('range', 'float32', []);
    const u = g.input('u', 'float32', [8]);
    const y = fakeQuantize(g, x, g.stopGradient(scaleOfRange(g, range)));
    const { gradients, unreachable } = backward(g, g.op.ReduceSum(g.op.Mul(y, u), undefined, { keepdims: false }), [x, range], { dense: true });
    expect(unreachable).toEqual(['range']);
    const dx = gradients.get('x');
    if (dx?.kind !== 'dense') throw new Error('no dense gradient for x');
    g.output('y', y);
    g.output('dx', dx.value);
    const xs = [-3, -2, -1.9, -0.5, 0, 0.7, 2, 2.5];
    const us = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = await runGraph(g.build(), {
      x: tensorFromNumbers('float32', [8], xs),
      range: tensorFromNumbers('float32', [], [2]),
      u: tensorFromNumbers('float32', [8], us),
    });
    // Inside [−2, 2], bounds included: u; outside: 0.
    expect(numbers(out.dx, 'dx')).toEqual([0, 2, 3, 4, 5, 6, 7, 0]);
    // Outside the range, y saturates at ±range.
    const y0 = numbers(out.y, 'y');
    expect(y0[0]).toBeCloseTo(-2, 6);
    expect(y0[7]).toBeCloseTo(2, 6);
    // Inside, within half a step (2/127) of x.
    y0.slice(1, 7).forEach((v, i) => expect(Math.abs(v - (xs[i + 1] as number))).toBeLessThanOrEqual(1 / 127 + 1e-7));
  });
});

describe('scale shapes', () => {
  function attempt(xShape: readonly number[], scaleShape: readonly number[], axis?: number): () => Value {
    const g = new GraphBuilder('bad');
    const x = g.input('x', 'float32', xShape);
    const s = g.input('s', 'float32', scaleShape);
    return () => fakeQuantize(g, x, s, axis === undefined ? {} : { axis });
  }

  it('takes [] per tensor, [C] along an axis, kept dims per row', () => {
    expect(attempt([4, 3], [])).not.toThrow();
    expect(attempt([4, 3], [3], 1)).not.toThrow();
    expect(attempt([4, 3], [4], 0)).not.toThrow();
    expect(attempt([2, 4, 3], [2, 4, 1])).not.toThrow();
  });

  it('refuses a scale that does not line up, naming the tensor', () => {
    for (const bad of [attempt([4, 3], [4], 1), attempt([4, 3], [4]), attempt([4, 3], [4, 3, 1]), attempt([4, 3], [3], 2)]) {
      expect(bad).toThrow(XlmtError);
      try {
        bad();
      } catch (e) {
        expect((e as XlmtError).code).toBe('BAD_ARGUMENT');
        expect((e as XlmtError).where).toEqual({ api: 'fakeQuantize', node: 'x' });
      }
    }
  });
});

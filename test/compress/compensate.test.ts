// The compensation's least squares: a full vector that is exactly linear in what the cut model gives is recovered,
// and a reader compensated with that fit computes on the kept coordinates what it computed on the full vector.
import { describe, expect, it } from 'vitest';
import { compensateReader, fitRegression } from '../../src/compress/prune/compensate.ts';
import type { CutMoments } from '../../src/compress/prune/hidden-stats.ts';
import { Random } from '../../src/util/random.ts';

const hidden = 6;
const kept = [0, 2, 3];
const k = kept.length;
const random = new Random(9);
const b0 = Float64Array.from({ length: hidden * k }, () => random.normal());
const d0 = Float64Array.from({ length: hidden }, () => random.normal());
const tokens = Array.from({ length: 400 }, () => Float64Array.from({ length: k }, () => 2 * random.normal() + 0.5));
const full = (u: Float64Array): Float64Array => Float64Array.from({ length: hidden }, (_, i) => {
  let x = d0[i] as number;
  for (let p = 0; p < k; p++) x += (b0[i * k + p] as number) * (u[p] as number);
  return x;
});

function moments(): CutMoments {
  const m: CutMoments = { sumX: new Float64Array(hidden), sumU: new Float64Array(k), uu: new Float64Array(k * k), xu: new Float64Array(hidden * k), tokens: 0 };
  for (const u of tokens) {
    const x = full(u);
    for (let p = 0; p < k; p++) {
      m.sumU[p] = (m.sumU[p] as number) + (u[p] as number);
      for (let q = 0; q < k; q++) m.uu[p * k + q] = (m.uu[p * k + q] as number) + (u[p] as number) * (u[q] as number);
    }
    for (let i = 0; i < hidden; i++) {
      m.sumX[i] = (m.sumX[i] as number) + (x[i] as number);
      for (let p = 0; p < k; p++) m.xu[i * k + p] = (m.xu[i * k + p] as number) + (x[i] as number) * (u[p] as number);
    }
    m.tokens++;
  }
  return m;
}

describe('fitRegression', () => {
  it('recovers x = B·u + d when x is exactly linear in u', () => {
    const fit = fitRegression(moments(), hidden, k);
    fit.b.forEach((v, i) => expect(v).toBeCloseTo(b0[i] as number, 3));
    fit.d.forEach((v, i) => expect(v).toBeCloseTo(d0[i] as number, 3));
  });
});

describe('compensateReader', () => {
  it('gives on the kept coordinates what the reader gave on the full vector, the removed columns zeroed', () => {
    const out = 2;
    const weight = { name: 'w.weight', shape: [out, hidden], data: Float32Array.from({ length: out * hidden }, () => random.normal()) };
    const bias = { name: 'w.bias', shape: [out], data: Float32Array.from({ length: out }, () => random.normal()) };
    const done = compensateReader(weight, bias, kept, fitRegression(moments(), hidden, k));
    const u = tokens[7] as Float64Array;
    const x = full(u);
    for (let o = 0; o < out; o++) {
      let before = bias.data[o] as number;
      for (let i = 0; i < hidden; i++) before += (weight.data[o * hidden + i] as number) * (x[i] as number);
      let after = done.bias.data[o] as number;
      kept.forEach((col, p) => (after += (done.weight.data[o * hidden + col] as number) * (u[p] as number)));
      expect(after).toBeCloseTo(before, 2);
      for (const col of [1, 4, 5]) expect(done.weight.data[o * hidden + col]).toBe(0);
    }
  });
});

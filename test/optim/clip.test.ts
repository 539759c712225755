// Global gradient norm (row gradients with duplicate indices summed first) and in-place clipping.
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipScale, globalGradNorm } from '../../src/optim/index.ts';
import { dense, grads, rows } from './helpers.ts';

// Dense (3, 4): 9 + 16 = 25. Rows 1, 1, 2 of width 2: row 1 = (1, 0) + (2, 0) = (3, 0), row 2 = (0, 2): 9 + 4 = 13.
// Global norm sqrt(38); without summing duplicates it would be sqrt(25 + 1 + 4 + 4) = sqrt(34).
const example = () => grads({ 'dense.weight': dense([3, 4]), 'emb.weight': rows([1, 1, 2], [1, 0, 2, 0, 0, 2]) });

describe('globalGradNorm', () => {
  it('sums duplicate row indices before squaring', () => {
    expect(globalGradNorm(example())).toBeCloseTo(Math.sqrt(38), 12);
  });

  it('sums every value of dense gradients of any length (the loop takes four at a time)', () => {
    for (const n of [1, 3, 4, 5, 7, 8, 9]) {
      const data = Array.from({ length: n }, (_, i) => i - 2.5);
      const want = Math.sqrt(data.reduce((s, x) => s + x * x, 0));
      expect(globalGradNorm(grads({ 'w.weight': dense(data) }))).toBeCloseTo(want, 12);
    }
  });

  it('is 0 for no gradients and empty row gradients', () => {
    expect(globalGradNorm(grads({}))).toBe(0);
    expect(globalGradNorm(grads({ 'emb.weight': rows([], []) }))).toBe(0);
  });

  it('rejects row gradients whose values do not split into rows', () => {
    expect(() => globalGradNorm(grads({ 'emb.weight': rows([0, 1], [1, 2, 3]) }))).toThrow(/"emb\.weight".*3 values for 2 indices/);
  });
});

describe('clipGradNorm', () => {
  it('scales every gradient in place when the norm exceeds the maximum', () => {
    const g = example();
    const { norm, scale } = clipGradNorm(g, 1);
    expect(norm).toBeCloseTo(Math.sqrt(38), 12);
    expect(scale).toBeCloseTo(1 / (Math.sqrt(38) + 1e-6), 12);
    const d = g.get('dense.weight');
    expect(d?.kind === 'dense' ? Array.from(d.data) : []).toEqual([Math.fround(3 * scale), Math.fround(4 * scale)]);
    expect(globalGradNorm(g)).toBeCloseTo(1, 5);
  });

  it('leaves gradients alone under the maximum', () => {
    const g = example();
    expect(clipGradNorm(g, 10)).toEqual({ norm: Math.sqrt(38), scale: 1 });
    const r = g.get('emb.weight');
    expect(r?.kind === 'rows' ? Array.from(r.values) : []).toEqual([1, 0, 2, 0, 0, 2]);
  });

  it('does not scale when the norm is not finite', () => {
    const g = grads({ 'dense.weight': dense([Number.NaN, 1]) });
    const { norm, scale } = clipGradNorm(g, 1);
    expect(norm).toBeNaN();
    expect(scale).toBe(1);
    const d = g.get('dense.weight');
    expect(d?.kind === 'dense' ? d.data[1] : undefined).toBe(1);
  });

  it('validates maxNorm', () => {
    expect(() => clipGradNorm(example(), 0)).toThrow(/maxNorm/);
  });
});

describe('clipScale', () => {
  it('is clipGradNorm\'s factor, without touching any gradient', () => {
    expect(clipScale(Math.sqrt(38), 1)).toBe(clipGradNorm(example(), 1).scale);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(1, 1)).toBe(1);
  });

  it('is 1 for a non-finite norm and rejects a bad maximum', () => {
    expect(clipScale(Number.NaN, 1)).toBe(1);
    expect(clipScale(Number.POSITIVE_INFINITY, 1)).toBe(1);
    expect(() => clipScale(2, -1, 'Trainer.step')).toThrow(/maxNorm/);
  });
});

// normalQuantile against published values of Φ⁻¹ and against the t quantile of very many degrees of freedom (an
// independent computation: the t distribution tends to the normal).
import { describe, expect, it } from 'vitest';
import { normalQuantile, studentTQuantile } from '../../src/eval/index.ts';

describe('normalQuantile', () => {
  it('gives the tabled values in the centre and both tails', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536270, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.9599639845, 8);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.0902323062, 8);
    expect(normalQuantile(1e-9)).toBeCloseTo(-5.9978070150, 6);
  });

  it('agrees with the t quantile at 10⁸ degrees of freedom across (0, 1)', () => {
    for (const p of [1e-6, 0.01, 0.02425, 0.1, 0.3, 0.6, 0.9, 0.97575, 0.999, 1 - 1e-6]) {
      expect(normalQuantile(p), String(p)).toBeCloseTo(studentTQuantile(p, 1e8), 6);
    }
  });

  it('refuses a probability outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, Number.NaN]) expect(() => normalQuantile(p)).toThrow(/invalid probability/);
  });
});

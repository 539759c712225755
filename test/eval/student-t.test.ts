// Student's t quantiles and CDF against published table values and scipy.stats.t (scipy 1.17).
import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile } from '../../src/eval/index.ts';

describe('studentTQuantile', () => {
  it.each([
    // Table values to three decimals; the rest from scipy.stats.t.ppf(0.975, df).
    [1, 12.706204736174694],
    [2, 4.302652729749462],
    [4, 2.7764451051977934],
    [9, 2.262157162798205],
    [30, 2.0422724563012378],
    [100, 1.9839715185235518],
    [3.5, 2.9400886379827282],
    [7.25, 2.348194849105371],
  ])('t_{0.975, %s} = %s', (df, expected) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 9);
  });

  it('matches the table to three decimals', () => {
    expect(studentTQuantile(0.975, 1).toFixed(3)).toBe('12.706');
    expect(studentTQuantile(0.975, 2).toFixed(3)).toBe('4.303');
    expect(studentTQuantile(0.975, 4).toFixed(3)).toBe('2.776');
    expect(studentTQuantile(0.975, 9).toFixed(3)).toBe('2.262');
  });

  it('handles other levels and the lower tail by symmetry', () => {
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.0150483733330233, 9);
    expect(studentTQuantile(0.995, 3)).toBeCloseTo(5.840909309733355, 9);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451051977934, 9);
    expect(studentTQuantile(0.5, 4)).toBe(0);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 5); // → the normal quantile
  });

  it('rejects invalid arguments', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/invalid probability/);
    expect(() => studentTQuantile(0.975, 0)).toThrow(/invalid degrees of freedom/);
  });
});

describe('studentTCdf', () => {
  it('matches scipy.stats.t.cdf', () => {
    expect(studentTCdf(1.5, 3)).toBeCloseTo(0.8847080673775886, 12);
    expect(studentTCdf(-2, 2.5)).toBeCloseTo(0.07869574787898295, 12);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 15);
    // df 1 is Cauchy: 1/2 + atan(t)/π.
    expect(studentTCdf(3, 1)).toBeCloseTo(0.5 + Math.atan(3) / Math.PI, 12);
  });
});

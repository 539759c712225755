// Run statistics: mean, sample SD, t intervals, and relative degradation with unpaired and paired intervals.
import { describe, expect, it } from 'vitest';
import { degradation, mean, relativeDegradation, sampleSd, summarizeRuns, studentTQuantile } from '../../src/eval/index.ts';

describe('summarizeRuns', () => {
  it('gives mean, sample SD and a t interval (numpy ddof=1, scipy t.ppf)', () => {
    const s = summarizeRuns([0.8, 0.82, 0.84, 0.86]);
    expect(s.n).toBe(4);
    expect(s.mean).toBeCloseTo(0.83, 14);
    expect(s.sd).toBeCloseTo(0.02581988897471609, 14); // sqrt(0.002 / 3)
    // t_{0.975, 3} · sd / √4 = 3.182446 · 0.0129099
    expect(s.ci?.halfWidth).toBeCloseTo(0.041085205135210384, 12);
    expect(s.ci?.low).toBeCloseTo(0.83 - 0.041085205135210384, 12);
    expect(s.ci?.high).toBeCloseTo(0.83 + 0.041085205135210384, 12);
    expect(s.ci?.df).toBe(3);
  });

  it('widens with the confidence level', () => {
    const s90 = summarizeRuns([1, 2, 3], 0.9);
    expect(s90.ci?.halfWidth).toBeCloseTo((studentTQuantile(0.95, 2) * 1) / Math.sqrt(3), 12);
    expect(s90.ci!.halfWidth).toBeLessThan(summarizeRuns([1, 2, 3]).ci!.halfWidth);
  });

  it('has no SD or interval for a single run', () => {
    expect(summarizeRuns([0.7])).toEqual({ n: 1, mean: 0.7, sd: null, ci: null });
  });

  it('rejects empty and non-finite runs', () => {
    expect(() => summarizeRuns([])).toThrow(/too few runs \(expected at least 1; received 0\)/);
    expect(() => mean([1, Number.NaN])).toThrow(/run 1 is not a finite number/);
    expect(() => sampleSd([1])).toThrow(/at least 2/);
  });
});

describe('relativeDegradation', () => {
  it('is (reference − value) / reference × 100', () => {
    expect(relativeDegradation(0.8, 0.76)).toBeCloseTo(5, 12);
    expect(relativeDegradation(0.8, 0.84)).toBeCloseTo(-5, 12);
    expect(() => relativeDegradation(0, 0.5)).toThrow(/non-zero/);
  });
});

describe('degradation', () => {
  it('unpaired: ratio of means, delta-method SE, Welch–Satterthwaite df', () => {
    // r̄ = 0.82, x̄ = 0.775: 4.5 / 0.82 = 5.4878 %. Half-width and df from the formulas in stats.ts, evaluated in
    // numpy/scipy: 4.629457746615881, df 3.369247341111098.
    const d = degradation([0.8, 0.82, 0.84], [0.76, 0.78, 0.77, 0.79]);
    expect(d.method).toBe('unpaired-delta-welch');
    expect(d.estimate).toBeCloseTo(5.487804878048772, 10);
    expect(d.ci?.halfWidth).toBeCloseTo(4.6294577466158815, 8);
    expect(d.ci?.df).toBeCloseTo(3.3692473411110977, 10);
  });

  it('unpaired with a constant reference reduces to the variant’s own t interval scaled by 100 / reference', () => {
    // (0.8 − 0.775) / 0.8 = 3.125 %; t_{0.975, 3} · s_x / 2 · 100 / 0.8 = 2.567825320950653.
    const d = degradation([0.8, 0.8], [0.76, 0.78, 0.77, 0.79]);
    expect(d.estimate).toBeCloseTo(3.125, 10);
    expect(d.ci?.df).toBeCloseTo(3, 10);
    expect(d.ci?.halfWidth).toBeCloseTo(2.567825320950653, 8);
  });

  it('unpaired has no interval when a side has one run', () => {
    expect(degradation([0.7], [0.65, 0.67])).toEqual({ estimate: expect.closeTo(4 / 0.7, 10), ci: null, method: 'unpaired-delta-welch' });
  });

  it('paired: the mean of per-seed degradations with a t interval on n − 1 df', () => {
    // Per seed: 2.5, 2.4390, 3.5714 %; mean 2.8368176538908187, half-width t_{0.975, 2} · sd / √3 = 1.5822015155767193.
    const d = degradation([0.8, 0.82, 0.84], [0.78, 0.8, 0.81], { paired: true });
    expect(d.method).toBe('paired');
    expect(d.estimate).toBeCloseTo(2.8368176538908187, 10);
    expect(d.ci?.halfWidth).toBeCloseTo(1.5822015155767193, 8);
    expect(d.ci?.df).toBe(2);
  });

  it('paired needs as many runs on both sides', () => {
    expect(() => degradation([0.8, 0.82], [0.78], { paired: true })).toThrow(
      'degradation: paired runs need the same number of runs on both sides (expected 2; received 1). Pass paired: false when the seeds do not match',
    );
  });
});

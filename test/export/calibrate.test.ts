// Calibration methods on distributions whose answer is known: what each method clips, how the histogram grows when
// a later batch holds larger values, and the ranges a static export quantizes over.
import { describe, expect, it } from 'vitest';
import { ActivationStats, activationRange, clipThreshold, entropyThreshold, HISTOGRAM_BINS, percentileThreshold } from '../../src/export/calibrate.ts';
import { Random } from '../../src/util/random.ts';

/** Statistics of `values`, added in batches of 10,000 as calibration adds them. */
function statsOf(values: Float32Array): ActivationStats {
  const s = new ActivationStats();
  for (let i = 0; i < values.length; i += 10_000) s.add(values, i, Math.min(values.length, i + 10_000));
  return s;
}

const random = new Random(3);
const uniform = new Float32Array(200_000).map(() => 2 * random.next() - 1); // U(−1, 1)
const gaussian = new Float32Array(200_000).map(() => random.normal());
/** N(0, 1) with two outliers (0.001 % of the values), the kind a few tokens put in a hidden state. */
const withOutliers = Float32Array.from(gaussian);
withOutliers[10] = 100;
withOutliers[150_000] = -60;

describe('clipThreshold', () => {
  it('minmax is max|x| exactly, nothing clipped', () => {
    expect(clipThreshold(statsOf(withOutliers), 'minmax')).toBe(100);
    expect(clipThreshold(statsOf(uniform), 'minmax')).toBe(uniform.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  });

  it('percentile (99.999) keeps a uniform distribution whole and cuts two outliers in 200,000 down to the Gaussian tail', () => {
    expect(clipThreshold(statsOf(uniform), 'percentile')).toBeGreaterThan(0.999);
    const t = clipThreshold(statsOf(withOutliers), 'percentile');
    // The Gaussian's 99.999th percentile of |x| is 4.42; one bin is 100/2048 ≈ 0.05 wide here.
    expect(t).toBeGreaterThan(4.0);
    expect(t).toBeLessThan(5.0);
  });

  it('entropy keeps a uniform distribution whole (clipping it only loses information)', () => {
    expect(clipThreshold(statsOf(uniform), 'entropy')).toBeGreaterThan(0.95);
  });

  it('entropy clips a Gaussian inside its extremes, and outliers far below them', () => {
    const g = statsOf(gaussian);
    const t = clipThreshold(g, 'entropy');
    expect(t).toBeGreaterThan(2.5); // well past the bulk: |x| < 2.5 holds 98.8 % of the values
    expect(t).toBeLessThan(clipThreshold(g, 'minmax'));
    const o = clipThreshold(statsOf(withOutliers), 'entropy');
    expect(o).toBeGreaterThan(2.5);
    expect(o).toBeLessThan(25); // a quarter of max|x| = 100
  });
});

describe('ActivationStats', () => {
  it('doubles its range when a later batch holds larger values, keeping every count', () => {
    const s = new ActivationStats();
    s.add(Float32Array.of(0.5, -0.9, 0.25));
    expect(s.binWidth).toBe(Math.fround(0.9) / (HISTOGRAM_BINS - 1));
    s.add(Float32Array.of(3.5, -0.75));
    expect(s.binWidth).toBe((4 * Math.fround(0.9)) / (HISTOGRAM_BINS - 1)); // range 0.9·2048/2047, doubled twice: the first above 3.5
    expect(s.histogram.reduce((a, b) => a + b, 0)).toBe(5);
    expect(s.count).toBe(5);
    expect([s.min, s.max]).toEqual([-Math.fround(0.9), 3.5]);
    // Merging pairs of bins is exact: each value sits in the bin its magnitude falls in at the final width.
    const expected = new Float64Array(HISTOGRAM_BINS);
    for (const v of Float32Array.of(0.5, 0.9, 0.25, 3.5, 0.75)) {
      const bin = Math.floor(v / s.binWidth);
      expected[bin] = (expected[bin] ?? 0) + 1;
    }
    expect(s.histogram).toEqual(expected);
  });

  it('adds only the given slice (the rows of real tokens)', () => {
    const s = new ActivationStats();
    s.add(Float32Array.of(9, 1, -2, 9), 1, 3);
    expect([s.min, s.max, s.count]).toEqual([-2, 1, 2]);
  });

  it('refuses a non-finite value', () => {
    expect(() => new ActivationStats().add(Float32Array.of(1, Number.NaN))).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
  });
});

describe('activationRange', () => {
  it('clips each side to the threshold, keeps a one-sided activation one-sided, and holds 0', () => {
    const s = new ActivationStats();
    s.add(Float32Array.from({ length: 1000 }, (_, i) => -0.17 + (i / 999) * 10.17)); // GELU-like: −0.17 … 10
    expect(activationRange(s, 'minmax')).toEqual({ min: expect.closeTo(-0.17, 6), max: 10 });
    const positive = new ActivationStats();
    positive.add(Float32Array.of(2, 3, 4));
    expect(activationRange(positive, 'minmax')).toEqual({ min: 0, max: 4 });
    const outliers = activationRange(statsOf(withOutliers), 'percentile');
    expect(outliers.max).toBeLessThan(5);
    expect(outliers.min).toBeGreaterThan(-5);
  });
});

describe('histogram thresholds', () => {
  it('percentileThreshold is the upper edge of the bin where the share is reached', () => {
    const h = new Float64Array(8);
    h.set([50, 30, 10, 5, 4, 0, 0, 1]);
    expect(percentileThreshold(h, 0.5, 50)).toBe(0.5);
    expect(percentileThreshold(h, 0.5, 90)).toBe(1.5);
    expect(percentileThreshold(h, 0.5, 99.5)).toBe(4);
  });

  it('entropyThreshold keeps every bin when there are no more bins than levels', () => {
    const h = new Float64Array(HISTOGRAM_BINS);
    h.fill(1, 0, 100);
    expect(entropyThreshold(h, 0.01)).toBeCloseTo(1, 12);
  });
});

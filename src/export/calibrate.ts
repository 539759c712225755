// Activation ranges from calibration statistics: what a static int8 export quantizes each dense layer's input to.
// One ActivationStats per activation gathers its values batch by batch (min, max, and a histogram of |x|); a method
// turns them into a clip threshold T on |x|, and the range is [max(min, −T), min(max, T)], widened to hold 0 (uint8
// codes must represent 0 exactly: padding, ReLU-like zeros). The methods, per tensor:
// - minmax: T = max|x|, nothing clipped. Exact, but one outlier token widens the step for every other value.
// - percentile: T = the PERCENTILE-th percentile of |x| (Optimum's default 99.999, 2048 bins). Transformer hidden
//   states carry a few outlier dimensions that matter to the model (a few tenths of a percent of the values); a
//   99.99th percentile would clip into them, 99.999 clips only the rarest values (1 in 100,000).
// - entropy: TensorRT's KL-divergence calibration (Migacz, "8-bit inference with TensorRT", 2017), as ONNX Runtime
//   and MXNet implement it: over HISTOGRAM_BINS bins of |x|, the threshold whose 128-level quantization of the clipped
//   distribution (outliers folded into the last bin) loses the least information, KL(P‖Q). 128 levels: a symmetric
//   8-bit code has 128 magnitudes (0…127); the search starts at 128 bins, where Q can still equal P.
//
// The histogram covers [0, R) in HISTOGRAM_BINS equal bins. R is set by the first batch's max|x| and doubled
// (neighbouring bins merged pairwise, which is exact) whenever a later value exceeds it, so one pass suffices and
// max|x| ≤ R < 2·max|x|: at least HISTOGRAM_BINS/2 bins span the observed values. A percentile or entropy threshold
// is a bin edge, so it is off by at most one bin, R/2048 ≤ max|x|/1024.
import { XlmtError } from '../errors/index.ts';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** The float interval an activation is quantized over (uint8 codes 0…255 spread evenly across it). */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

export const HISTOGRAM_BINS = 2048;
/** Optimum's default percentile; why not 99.99 is said above. */
export const PERCENTILE = 99.999;
/** Quantized magnitudes of a symmetric 8-bit code, as TensorRT's entropy calibration uses them. */
export const ENTROPY_LEVELS = 128;

/** Running statistics of one activation: extremes, count and the histogram of |x|. */
export class ActivationStats {
  min = Infinity;
  max = -Infinity;
  count = 0;
  /** Width of one bin; 0 until a non-zero value has been seen. */
  binWidth = 0;
  readonly histogram = new Float64Array(HISTOGRAM_BINS);

  /** Adds values[from…to) (the rows of real tokens; the caller leaves padding out). */
  add(values: Float32Array, from = 0, to = values.length): void {
    let lo = this.min;
    let hi = this.max;
    let maxAbs = 0;
    for (let i = from; i < to; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) throw new XlmtError({ code: 'NON_FINITE', where: { api: 'ActivationStats.add' }, message: `a calibration activation is ${v}`, hint: 'the fp32 model itself gives non-finite values on the calibration texts' });
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const a = Math.abs(v);
      if (a > maxAbs) maxAbs = a;
    }
    this.min = lo;
    this.max = hi;
    this.count += to - from;
    if (maxAbs === 0) {
      this.histogram[0] = (this.histogram[0] as number) + (to - from); // all zeros: bin 0, whatever its width
      return;
    }
    // The first max|x| falls inside the last bin, not on its upper edge, so every value has the bin it belongs in.
    if (this.binWidth === 0) this.binWidth = maxAbs / (HISTOGRAM_BINS - 1);
    while (maxAbs >= this.binWidth * HISTOGRAM_BINS) this.doubleRange();
    for (let i = from; i < to; i++) {
      const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(values[i] as number) / this.binWidth));
      this.histogram[bin] = (this.histogram[bin] as number) + 1;
    }
  }

  private doubleRange(): void {
    const h = this.histogram;
    for (let i = 0; i < HISTOGRAM_BINS / 2; i++) h[i] = (h[2 * i] as number) + (h[2 * i + 1] as number);
    h.fill(0, HISTOGRAM_BINS / 2);
    this.binWidth *= 2;
  }

  get maxAbs(): number {
    return Math.max(Math.abs(this.min), Math.abs(this.max));
  }
}

/** The clip threshold on |x| that a method picks from the statistics. */
export function clipThreshold(stats: ActivationStats, method: CalibrationMethod): number {
  if (stats.count === 0) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'clipThreshold' }, message: 'no values were observed for this activation' });
  if (method === 'minmax' || stats.binWidth === 0) return stats.maxAbs; // all zeros: nothing to clip
  const t = method === 'percentile' ? percentileThreshold(stats.histogram, stats.binWidth, PERCENTILE) : entropyThreshold(stats.histogram, stats.binWidth);
  return Math.min(t, stats.maxAbs); // a bin edge may lie past the largest value
}

/** The activation's range: its observed interval clipped to ±threshold, holding 0. */
export function activationRange(stats: ActivationStats, method: CalibrationMethod): ActivationRange {
  const t = clipThreshold(stats, method);
  return { min: Math.min(0, Math.max(stats.min, -t)), max: Math.max(0, Math.min(stats.max, t)) };
}

/** The upper edge of the first bin by which at least `percent` % of the values have been counted. */
export function percentileThreshold(histogram: Float64Array, binWidth: number, percent: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  const target = (percent / 100) * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] as number;
    if (seen >= target) return (i + 1) * binWidth;
  }
  return histogram.length * binWidth;
}

/** TensorRT's KL-divergence threshold over a histogram of |x| (see the file's opening comment). */
export function entropyThreshold(histogram: Float64Array, binWidth: number, levels = ENTROPY_LEVELS): number {
  let used = histogram.length;
  while (used > 0 && histogram[used - 1] === 0) used--;
  if (used <= levels) return used * binWidth; // fewer bins than levels: every bin gets its own level, nothing to clip
  let best = used;
  let bestDivergence = Infinity;
  const p = new Float64Array(used);
  const q = new Float64Array(used);
  let outliers = 0;
  for (let i = levels; i < used; i++) outliers += histogram[i] as number;
  for (let i = levels; i <= used; i++) {
    // P: the first i bins, the values beyond folded into the last one (what clipping at this threshold does).
    for (let j = 0; j < i; j++) p[j] = histogram[j] as number;
    p[i - 1] = (p[i - 1] as number) + outliers;
    // Q: the first i bins merged into `levels` levels, each level's count spread over the bins it covers that
    // were non-empty (a quantizer cannot put mass where the data had none).
    for (let level = 0; level < levels; level++) {
      const start = Math.floor((level * i) / levels);
      const end = level === levels - 1 ? i : Math.floor(((level + 1) * i) / levels);
      let sum = 0;
      let nonEmpty = 0;
      for (let j = start; j < end; j++) {
        sum += histogram[j] as number;
        if ((p[j] as number) > 0) nonEmpty++;
      }
      for (let j = start; j < end; j++) q[j] = (p[j] as number) > 0 ? sum / nonEmpty : 0;
    }
    const divergence = klDivergence(p.subarray(0, i), q.subarray(0, i));
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = i;
    }
    if (i < used) outliers -= histogram[i] as number;
  }
  return best * binWidth;
}

/**
 * KL(P‖Q) of two unnormalized histograms, Q smoothed as MXNet and ONNX Runtime do: a bin where P has mass and Q
 * has none (the last bin, holding the clipped outliers) gets a small share ε of Q's mass instead of making the
 * divergence infinite.
 */
function klDivergence(p: Float64Array, q: Float64Array, eps = 1e-4): number {
  let pSum = 0;
  let qSum = 0;
  let qZeros = 0; // bins with P's mass and none of Q's
  let qNonZero = 0;
  for (let j = 0; j < p.length; j++) {
    pSum += p[j] as number;
    qSum += q[j] as number;
    if ((q[j] as number) > 0) qNonZero++;
    else if ((p[j] as number) > 0) qZeros++;
  }
  if (qSum === 0) return Infinity;
  const taken = (eps * qZeros) / qNonZero; // what each non-empty bin of Q gives up, so Q still sums to 1
  let d = 0;
  for (let j = 0; j < p.length; j++) {
    const pj = (p[j] as number) / pSum;
    if (pj === 0) continue;
    const raw = (q[j] as number) / qSum;
    const qj = raw === 0 ? eps : Math.max(raw - taken, eps * eps);
    d += pj * Math.log(pj / qj);
  }
  return d;
}

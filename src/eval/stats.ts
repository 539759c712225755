// Statistics over runs with different seeds: mean, sample SD, Student-t confidence intervals, relative degradation.
//
// Degradation of a variant x against a reference r is (r − x) / r × 100: positive means x is worse. Its CI:
//   - unpaired (the default; seeds need not match): the point estimate is (r̄ − x̄) / r̄ × 100, its standard error
//     comes from the delta method, SE² = (100 / r̄)² · s_x²/n_x + (100 · x̄ / r̄²)² · s_r²/n_r, which counts the noise
//     of the reference mean in the denominator too, and its degrees of freedom from Welch–Satterthwaite on those
//     two terms. Needs at least two runs on each side: one run says nothing about its own spread.
//   - paired (seed i of x was trained like seed i of r): the per-seed degradations d_i = (r_i − x_i) / r_i × 100
//     are summarized like any runs, so the estimate is their mean (not the ratio of means).
import { badArgument, nonFinite, type At } from './errors.ts';
import { studentTQuantile } from './student-t.ts';

export interface ConfidenceInterval {
  readonly low: number;
  readonly high: number;
  /** (high − low) / 2: every interval here is symmetric, and tables print it as "mean ± halfWidth". */
  readonly halfWidth: number;
  /** Degrees of freedom of the t quantile used. */
  readonly df: number;
}

export interface RunSummary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); null for a single run. */
  readonly sd: number | null;
  /** mean ± t_{(1+c)/2, n−1} · sd / √n; null for a single run. */
  readonly ci: ConfidenceInterval | null;
}

export interface DegradationOptions {
  /** Pair runs by position (same seeds); both sides must then have the same number of runs. Default false. */
  readonly paired?: boolean;
  /** Confidence level of the interval; default 0.95. */
  readonly confidence?: number;
}

export interface Degradation {
  /** Relative degradation in percent; positive when the variant is worse than the reference. */
  readonly estimate: number;
  /** null when a side has a single run (unpaired) or there is a single pair (paired). */
  readonly ci: ConfidenceInterval | null;
  readonly method: 'unpaired-delta-welch' | 'paired';
}

export function mean(values: readonly number[]): number {
  checkRuns('mean', values, 1);
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation, with n − 1 in the denominator (numpy's ddof=1). */
export function sampleSd(values: readonly number[]): number {
  checkRuns('sampleSd', values, 2);
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / (values.length - 1));
}

export function summarizeRuns(values: readonly number[], confidence = 0.95): RunSummary {
  checkRuns('summarizeRuns', values, 1);
  checkConfidence('summarizeRuns', confidence);
  const m = mean(values);
  if (values.length < 2) return { n: values.length, mean: m, sd: null, ci: null };
  const sd = sampleSd(values);
  return { n: values.length, mean: m, sd, ci: interval(m, sd / Math.sqrt(values.length), values.length - 1, confidence) };
}

/** (reference − value) / reference × 100. */
export function relativeDegradation(reference: number, value: number): number {
  if (reference === 0 || !Number.isFinite(reference)) {
    throw badArgument('relativeDegradation', 'the reference must be finite and non-zero', { expected: 'a non-zero number', received: String(reference) });
  }
  return ((reference - value) / reference) * 100;
}

/** Relative degradation of `runs` against `referenceRuns` with a confidence interval (method at the top of the file). */
export function degradation(referenceRuns: readonly number[], runs: readonly number[], options: DegradationOptions = {}): Degradation {
  const where = 'degradation';
  const confidence = options.confidence ?? 0.95;
  checkRuns(where, referenceRuns, 1);
  checkRuns(where, runs, 1);
  checkConfidence(where, confidence);
  if (options.paired === true) {
    if (referenceRuns.length !== runs.length) {
      throw badArgument(where, 'paired runs need the same number of runs on both sides', { expected: String(referenceRuns.length),
        received: String(runs.length),
        hint: 'Pass paired: false when the seeds do not match' });
    }
    const perSeed = runs.map((x, i) => relativeDegradation(referenceRuns[i]!, x));
    const s = summarizeRuns(perSeed, confidence);
    return { estimate: s.mean, ci: s.ci, method: 'paired' };
  }
  const r = mean(referenceRuns);
  const x = mean(runs);
  const estimate = relativeDegradation(r, x);
  const method = 'unpaired-delta-welch';
  if (referenceRuns.length < 2 || runs.length < 2) return { estimate, ci: null, method };
  const varX = ((100 / r) ** 2 * sampleSd(runs) ** 2) / runs.length;
  const varR = ((100 * x) / (r * r)) ** 2 * sampleSd(referenceRuns) ** 2 / referenceRuns.length;
  const se = Math.sqrt(varX + varR);
  // With no spread at all Welch's df is 0/0; the interval has zero width whatever df is, so report the pooled df.
  const df = se === 0 ? runs.length + referenceRuns.length - 2 : (varX + varR) ** 2 / (varX ** 2 / (runs.length - 1) + varR ** 2 / (referenceRuns.length - 1));
  return { estimate, ci: interval(estimate, se, df, confidence), method };
}

function interval(center: number, standardError: number, df: number, confidence: number): ConfidenceInterval {
  const halfWidth = studentTQuantile((1 + confidence) / 2, df) * standardError;
  return { low: center - halfWidth, high: center + halfWidth, halfWidth, df };
}

function checkRuns(where: At, values: readonly number[], min: number): void {
  if (values.length < min) {
    throw badArgument(where, 'too few runs', { expected: `at least ${min}`, received: String(values.length) });
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw nonFinite(where, `run ${bad} is not a finite number`, { expected: 'a finite metric value', received: String(values[bad]) });
  }
}

function checkConfidence(where: At, confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw badArgument(where, 'invalid confidence level', { expected: 'a number in (0, 1)', received: String(confidence) });
  }
}

// Compensation for the hidden coordinates `prune hidden` removes. At each place a linear map reads the residual
// stream, the full vector x the map was trained on is fitted by least squares on what the cut model gives there,
// x′ (hidden-stats.ts: the kept coordinates normalized over themselves, as the cut model's LayerNorm will), over the
// measured tokens: x ≈ B·x′ + d. Each map reading that place becomes W·B on the kept coordinates, with bias b + W·d:
// the least-squares best its kept columns can do for the output it computed before the cut. (The removed
// coordinates' mean alone is the bias compensation of FLAP, An et al. 2024; the fit also carries what the kept
// coordinates predict of the removed ones, and the change of the LayerNorm's statistics.) Errors still compound
// through the layers, since each layer's input is the cut model's own: training after the cut takes that up.
import { XlmtError } from '../../errors/index.ts';
import type { Parameter } from '../../ir/params.ts';
import type { CutMoments } from './hidden-stats.ts';

/** x ≈ B·x′ + d: B is [hidden, kept] row-major. */
export interface Regression {
  readonly b: Float64Array;
  readonly d: Float64Array;
}

/** Ridge added to the covariance of x′, relative to its mean diagonal: keeps the solve well posed. */
const RIDGE = 1e-4;

export function fitRegression(m: CutMoments, hidden: number, kept: number): Regression {
  const n = Math.max(1, m.tokens);
  const meanX = Float64Array.from(m.sumX, (s) => s / n);
  const meanU = Float64Array.from(m.sumU, (s) => s / n);
  const k = kept;
  const cuu = new Float64Array(k * k);
  let diagonal = 0;
  for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) cuu[p * k + q] = (m.uu[p * k + q] as number) / n - (meanU[p] as number) * (meanU[q] as number);
  for (let p = 0; p < k; p++) diagonal += cuu[p * k + p] as number;
  const ridge = (RIDGE * diagonal) / k || RIDGE;
  for (let p = 0; p < k; p++) cuu[p * k + p] = (cuu[p * k + p] as number) + ridge;
  const factor = cholesky(cuu, k);
  const b = new Float64Array(hidden * k);
  const row = new Float64Array(k);
  for (let i = 0; i < hidden; i++) {
    for (let p = 0; p < k; p++) row[p] = (m.xu[i * k + p] as number) / n - (meanX[i] as number) * (meanU[p] as number);
    b.set(choleskySolve(factor, k, row), i * k);
  }
  const d = Float64Array.from(meanX, (mx, i) => {
    let predicted = 0;
    for (let p = 0; p < k; p++) predicted += (b[i * k + p] as number) * (meanU[p] as number);
    return mx - predicted;
  });
  return { b, d };
}

/**
 * A reader [out, hidden] and its bias, compensated: W·B in the kept columns, zeros in the removed ones (the cut then
 * takes the kept columns), b + W·d.
 */
export function compensateReader(weight: Parameter, bias: Parameter, kept: readonly number[], fit: Regression): { weight: Parameter; bias: Parameter } {
  const [out, hidden] = weight.shape as [number, number];
  const k = kept.length;
  const w = new Float32Array(out * hidden);
  const b = Float32Array.from(bias.data);
  const mixed = new Float64Array(k);
  for (let o = 0; o < out; o++) {
    mixed.fill(0);
    let shift = 0;
    for (let i = 0; i < hidden; i++) {
      const wi = weight.data[o * hidden + i] as number;
      if (wi === 0) continue;
      for (let p = 0; p < k; p++) mixed[p] = (mixed[p] as number) + wi * (fit.b[i * k + p] as number);
      shift += wi * (fit.d[i] as number);
    }
    kept.forEach((col, p) => (w[o * hidden + col] = mixed[p] as number));
    b[o] = (b[o] as number) + shift;
  }
  return { weight: { ...weight, data: w }, bias: { ...bias, data: b } };
}

/** The linear maps (parameter prefixes, each with .weight and .bias) that read each place of the stream. */
export function streamReaders(layers: number, headStyle: string, tasks: readonly string[]): { readonly hidden: string[][]; readonly attended: string[][] } {
  const sentence = headStyle === 'bert' ? ['pooler.dense'] : tasks.map((t) => (headStyle === 'roberta' ? `heads.${t}.dense` : `heads.${t}`));
  return {
    // Layer l reads the output before it; the heads read the pooled last output, a mean (or the first token) of its
    // rows, where a fit that holds on every row holds too.
    hidden: Array.from({ length: layers + 1 }, (_, l) => (l < layers ? ['query', 'key', 'value'].map((x) => `encoder.layer.${l}.attention.self.${x}`) : sentence)),
    attended: Array.from({ length: layers }, (_, l) => [`encoder.layer.${l}.intermediate.dense`]),
  };
}

/** Every reader of every place compensated for `kept`; the other parameters as they were. */
export function compensate(params: ReadonlyMap<string, Parameter>, moments: { readonly hidden: readonly CutMoments[]; readonly attended: readonly CutMoments[] }, hidden: number, kept: readonly number[], readers: ReturnType<typeof streamReaders>): Map<string, Parameter> {
  const out = new Map(params);
  const pairs = [...readers.hidden.map((names, l) => [names, moments.hidden[l]] as const), ...readers.attended.map((names, l) => [names, moments.attended[l]] as const)];
  for (const [names, m] of pairs) {
    if (!m) throw new XlmtError({ code: 'INTERNAL', where: { api: 'prune hidden' }, message: 'a place of the stream was not measured' });
    const fit = fitRegression(m, hidden, kept.length);
    for (const name of names) {
      const weight = params.get(`${name}.weight`);
      const bias = params.get(`${name}.bias`);
      if (!weight || !bias) throw new XlmtError({ code: 'INTERNAL', where: { api: 'prune hidden', tensor: `${name}.weight` }, message: 'the model has no such reader of the hidden states' });
      const done = compensateReader(weight, bias, kept, fit);
      out.set(weight.name, done.weight);
      out.set(bias.name, done.bias);
    }
  }
  return out;
}

/** Lower-triangular L with L·Lᵀ = m ([n, n], symmetric positive definite). */
function cholesky(m: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[i * n + j] as number;
      for (let p = 0; p < j; p++) s -= (l[i * n + p] as number) * (l[j * n + p] as number);
      if (i === j) {
        if (!(s > 0)) throw new XlmtError({ code: 'INTERNAL', where: { api: 'prune hidden' }, message: 'the kept coordinates\' covariance is not positive definite' });
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  return l;
}

/** x with L·Lᵀ·x = b. */
function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let p = 0; p < i; p++) s -= (l[i * n + p] as number) * (y[p] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let p = i + 1; p < n; p++) s -= (l[p * n + i] as number) * (x[p] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

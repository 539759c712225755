// L-BFGS: known minimizers of a quadratic and of Rosenbrock's function, the stopping rules, and a logistic
// regression driven to a vanishing gradient.
import { describe, expect, it } from 'vitest';
import { minimize, StepMemory } from '../../src/baseline/lbfgs.ts';
import { LogisticObjective } from '../../src/baseline/objective.ts';
import { CsrBuilder } from '../../src/baseline/sparse.ts';
import { Random } from '../../src/util/random.ts';

/** Algorithm 7.4 of Nocedal & Wright on plain arrays: −H·g from the pairs (s_i, y_i), oldest first. */
function textbookDirection(pairs: readonly { s: number[]; y: number[] }[], g: readonly number[]): number[] {
  const q = [...g];
  const alpha: number[] = [];
  for (let i = pairs.length - 1; i >= 0; i--) {
    const { s, y } = pairs[i]!;
    alpha[i] = dot(s, q) / dot(s, y);
    y.forEach((v, e) => { q[e]! -= alpha[i]! * v; });
  }
  const last = pairs.at(-1);
  const gamma = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1;
  const r = q.map((v) => gamma * v);
  pairs.forEach(({ s, y }, i) => {
    const beta = dot(y, r) / dot(s, y);
    s.forEach((v, e) => { r[e]! += (alpha[i]! - beta) * v; });
  });
  return r.map((v) => -v);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((sum, v, i) => sum + v * b[i]!, 0);

/** Moves by t along the memory's own direction to a gradient that changes by y = curvature(s), as minimize does. */
function step(memory: StepMemory, g: Float64Array, t: number, curvature: (s: number[]) => number[]): { s: number[]; y: number[]; gNext: Float64Array } {
  const direction = new Float64Array(g.length);
  memory.direction(g, direction);
  const s = [...direction].map((v) => t * v);
  const y = curvature(s);
  const gNext = g.map((v, e) => v + y[e]!);
  memory.push(t, direction, g, gNext, { before: dot(g, direction), after: dot(gNext, direction) });
  return { s, y, gNext };
}

describe('StepMemory', () => {
  it('gives the textbook two-loop direction, before and after its ring of slots wraps', () => {
    const random = new Random(9);
    const n = 20_000; // more than two blocks of the fused passes
    const slots = 4;
    const memory = new StepMemory(n, slots);
    const pairs: { s: number[]; y: number[] }[] = [];
    let g: Float64Array = Float64Array.from({ length: n }, () => random.normal());
    const direction = new Float64Array(n);
    for (let k = 0; k < 8; k++) {
      memory.direction(g, direction);
      const expected = textbookDirection(pairs.slice(-slots), [...g]);
      const scale = Math.max(...expected.map(Math.abs));
      expect(Math.max(...[...direction].map((v, e) => Math.abs(v - expected[e]!))) / scale).toBeLessThan(1e-10);
      // y = D·s with D diagonal, positive and far from a multiple of the identity, so sᵀy > 0 and H matters.
      const taken = step(memory, g, 0.5 + random.next(), (s) => s.map((v, e) => (1 + (e % 7) + 0.1 * random.next()) * v));
      pairs.push({ s: taken.s, y: taken.y });
      g = taken.gNext;
    }
    expect(memory.size).toBe(slots);
  });

  it('drops a pair without positive curvature, keeping the others', () => {
    const memory = new StepMemory(3, 2);
    const first = step(memory, Float64Array.of(-1, 0.5, 0), 1, (s) => [2 * s[0]!, 3 * s[1]!, 0]);
    const second = step(memory, first.gNext, 1, (s) => s.map((v) => -v)); // sᵀy < 0
    expect(memory.size).toBe(1);
    const direction = new Float64Array(3);
    memory.direction(second.gNext, direction);
    const expected = textbookDirection([{ s: first.s, y: first.y }], [...second.gNext]);
    [...direction].forEach((v, e) => expect(v).toBeCloseTo(expected[e]!, 12));
  });
});

describe('minimize (L-BFGS)', () => {
  it('finds the minimizer of an ill-conditioned quadratic: x* = A⁻¹b', () => {
    // A = diag(1, 10, 100, 1000) rotated by a fixed orthogonal (Householder) matrix, so the problem is not separable.
    const n = 4;
    const u = [0.5, -0.5, 0.5, 0.5];
    const h = (i: number, j: number): number => (i === j ? 1 : 0) - 2 * u[i]! * u[j]!;
    const eig = [1, 10, 100, 1000];
    const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => eig.reduce((s, e, m) => s + h(i, m) * e * h(j, m), 0)));
    const xStar = [1, -2, 3, -4];
    const b = a.map((row) => row.reduce((s, v, j) => s + v * xStar[j]!, 0));
    const f = (x: Float64Array, grad: Float64Array): number => {
      let value = 0;
      for (let i = 0; i < n; i++) {
        const ax = a[i]!.reduce((s, v, j) => s + v * x[j]!, 0);
        grad[i] = ax - b[i]!;
        value += 0.5 * x[i]! * ax - b[i]! * x[i]!;
      }
      return value;
    };
    const result = minimize(f, new Float64Array(n), { maxIterations: 100, gradientTolerance: 1e-7, relativeTolerance: 0 });
    expect(result.stop).toBe('gradient');
    expect(result.iterations).toBeLessThan(20);
    [...result.x].forEach((v, i) => expect(v).toBeCloseTo(xStar[i]!, 8));
  });

  it("reaches Rosenbrock's minimum (1, 1) from (−1.2, 1)", () => {
    const f = (x: Float64Array, grad: Float64Array): number => {
      const [p, q] = [x[0]!, x[1]!];
      grad[0] = -2 * (1 - p) - 400 * p * (q - p * p);
      grad[1] = 200 * (q - p * p);
      return (1 - p) ** 2 + 100 * (q - p * p) ** 2;
    };
    const result = minimize(f, Float64Array.of(-1.2, 1), { maxIterations: 200, gradientTolerance: 1e-8, relativeTolerance: 0 });
    expect(result.stop).toBe('gradient');
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.iterations).toBeLessThan(60);
  });

  it('stops when the value no longer falls by the relative tolerance', () => {
    const f = (x: Float64Array, grad: Float64Array): number => {
      grad[0] = 2 * (x[0]! - 5);
      return (x[0]! - 5) ** 2 + 1e6;
    };
    const result = minimize(f, Float64Array.of(0), { maxIterations: 100, gradientTolerance: 0, relativeTolerance: 1e-3 });
    expect(result.stop).toBe('no-progress');
  });

  it('stops at the iteration limit and reports each iteration', () => {
    const seen: number[] = [];
    const f = (x: Float64Array, grad: Float64Array): number => {
      grad[0] = 4 * x[0]! ** 3;
      return x[0]! ** 4;
    };
    const result = minimize(f, Float64Array.of(3), { maxIterations: 5, gradientTolerance: 0, relativeTolerance: 0, onIteration: (e) => seen.push(e.iteration) });
    expect(result.stop).toBe('max-iterations');
    expect(result.iterations).toBe(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(Math.abs(result.x[0]!)).toBeLessThan(3);
  });

  it('drives a regularized logistic regression to a vanishing gradient, every iteration lowering the objective', () => {
    const random = new Random(5);
    const rows = 200;
    const cols = 20;
    const k = 3;
    const builder = new CsrBuilder(cols);
    const labels = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      labels[i] = random.int(k);
      for (let j = 0; j < cols; j++) if (random.next() < 0.25 || j % k === labels[i]) builder.append(j, random.next());
      builder.endRow();
    }
    const objective = new LogisticObjective(builder.build(), { type: 'multiclass', labels }, k, 1);
    const values: number[] = [];
    const result = minimize((x, g) => objective.evaluate(x, g), new Float64Array(objective.size), {
      maxIterations: 500, gradientTolerance: 1e-6, relativeTolerance: 0, onIteration: (e) => values.push(e.value),
    });
    expect(result.stop).toBe('gradient');
    const grad = new Float64Array(objective.size);
    expect(objective.evaluate(result.x, grad)).toBeCloseTo(result.value, 10);
    expect(Math.max(...grad.map(Math.abs))).toBeLessThanOrEqual(1e-6);
    values.forEach((v, i) => expect(v).toBeLessThan(i === 0 ? rows * Math.log(k) : values[i - 1]!));
  });
});

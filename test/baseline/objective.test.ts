// The logistic-regression objective: its gradient against central differences along random directions, for a
// softmax (multiclass) and a sigmoid-per-label (multilabel) head, with regularization and bias included.
import { describe, expect, it } from 'vitest';
import { LogisticObjective, type Targets } from '../../src/baseline/objective.ts';
import { CsrBuilder, type Csr } from '../../src/baseline/sparse.ts';
import { Random } from '../../src/util/random.ts';

/** rows × cols with about `density` of the entries non-zero, values in (−1, 1). */
function randomCsr(random: Random, rows: number, cols: number, density: number): Csr {
  const builder = new CsrBuilder(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) if (random.next() < density) builder.append(j, 2 * random.next() - 1);
    builder.endRow();
  }
  return builder.build();
}

function randomVector(random: Random, n: number, scale: number): Float64Array {
  return Float64Array.from({ length: n }, () => scale * random.normal());
}

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Central difference of the objective along v against the gradient's inner product with v. */
function directionalCheck(objective: LogisticObjective, theta: Float64Array, v: Float64Array, h: number): { analytic: number; numeric: number } {
  const grad = new Float64Array(objective.size);
  const scratch = new Float64Array(objective.size);
  objective.evaluate(theta, grad);
  const plus = theta.map((t, i) => t + h * v[i]!);
  const minus = theta.map((t, i) => t - h * v[i]!);
  const numeric = (objective.evaluate(plus, scratch) - objective.evaluate(minus, scratch)) / (2 * h);
  return { analytic: dot(grad, v), numeric };
}

const cases: { name: string; targets: (random: Random, rows: number, k: number) => Targets }[] = [
  { name: 'multiclass (softmax)', targets: (random, rows, k) => ({ type: 'multiclass', labels: Int32Array.from({ length: rows }, () => random.int(k)) }) },
  { name: 'multilabel (sigmoids)', targets: (random, rows, k) => ({ type: 'multilabel', labels: Uint8Array.from({ length: rows * k }, () => (random.next() < 0.3 ? 1 : 0)) }) },
];

describe('LogisticObjective gradient', () => {
  for (const c of cases) {
    it(`matches central differences: ${c.name}`, () => {
      const random = new Random(7);
      const rows = 30;
      const cols = 12;
      const k = 4;
      const objective = new LogisticObjective(randomCsr(random, rows, cols, 0.3), c.targets(random, rows, k), k, 0.7);
      for (let trial = 0; trial < 5; trial++) {
        const theta = randomVector(random, objective.size, 1.5);
        const v = randomVector(random, objective.size, 1);
        const { analytic, numeric } = directionalCheck(objective, theta, v, 1e-5);
        expect(Math.abs(analytic - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(analytic)));
      }
    });

    it(`has the right value at θ = 0 and a bias gradient that is not regularized: ${c.name}`, () => {
      const random = new Random(3);
      const rows = 10;
      const k = 3;
      const targets = c.targets(random, rows, k);
      const objective = new LogisticObjective(randomCsr(random, rows, 5, 0.5), targets, k, 2);
      const grad = new Float64Array(objective.size);
      const value = objective.evaluate(new Float64Array(objective.size), grad);
      // At zero every softmax is uniform (ln k per row), every sigmoid 1/2 (ln 2 per row and label).
      expect(value).toBeCloseTo(c.name.startsWith('multiclass') ? rows * Math.log(k) : rows * k * Math.log(2), 10);
      const bias = grad.subarray(5 * k);
      const expected = new Float64Array(k);
      for (let i = 0; i < rows; i++) {
        for (let l = 0; l < k; l++) {
          const gold = targets.type === 'multiclass' ? Number(targets.labels[i] === l) : targets.labels[i * k + l]!;
          expected[l]! += (targets.type === 'multiclass' ? 1 / k : 0.5) - gold;
        }
      }
      expect([...bias].map((b) => b.toFixed(10))).toEqual([...expected].map((b) => b.toFixed(10)));
      // Large weights: the regularizer's share of the gradient is W / C.
      const theta = new Float64Array(objective.size);
      theta[0] = 1000;
      const withWeight = new Float64Array(objective.size);
      objective.evaluate(theta, withWeight);
      const empty = new LogisticObjective(new CsrBuilder(5).build(), { type: 'multiclass', labels: new Int32Array(0) }, k, 2);
      const regOnly = new Float64Array(empty.size);
      expect(empty.evaluate(theta, regOnly)).toBeCloseTo(1000 ** 2 / 4, 6);
      expect(regOnly[0]).toBeCloseTo(500, 10);
    });
  }

  it('stays finite for huge logits', () => {
    const builder = new CsrBuilder(1);
    builder.append(0, 1);
    builder.endRow();
    const x = builder.build();
    for (const targets of [{ type: 'multiclass', labels: Int32Array.of(0) }, { type: 'multilabel', labels: Uint8Array.of(1, 0) }] as Targets[]) {
      const objective = new LogisticObjective(x, targets, 2, 1e12);
      const grad = new Float64Array(objective.size);
      const value = objective.evaluate(Float64Array.of(-1e4, 1e4, 0, 0), grad);
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(1e4 - 1);
      expect([...grad].every(Number.isFinite)).toBe(true);
    }
  });
});

// Truncated SVD of embedding tables: the Gram matrix, the Jacobi eigensolver and the projection against naive
// float64 references (plain loops, power iteration with deflation, matrices built from a known SVD), and the
// error of the rank-k approximation against the discarded eigenvalues.
import { describe, expect, it } from 'vitest';
import { gramMatrix, type Matrix, projectRows, symmetricEigen, truncatedSvd } from '../../../src/compress/distill/student-svd.ts';
import { Random } from '../../../src/util/random.ts';

type Rows = number[][];

function randomRows(random: Random, rows: number, cols: number): Rows {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.normal()));
}

const matrix = (rows: Rows): Matrix => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: (rows[0] ?? []).length });
const toRows = (m: Matrix): Rows => Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, x, i) => s + x * (b[i] as number), 0);
const column = (rows: Rows, c: number): number[] => rows.map((r) => r[c] as number);
const transpose = (rows: Rows): Rows => (rows[0] ?? []).map((_, c) => column(rows, c));
const multiply = (a: Rows, b: Rows): Rows => a.map((row) => (b[0] ?? []).map((_, c) => dot(row, column(b, c))));
const frobenius = (a: Rows): number => Math.sqrt(a.flat().reduce((s, x) => s + x * x, 0));
const minus = (a: Rows, b: Rows): Rows => a.map((row, i) => row.map((x, j) => x - (b[i]?.[j] as number)));

/** Orthonormal columns by Gram–Schmidt: [rows, cols]. */
function orthonormalColumns(random: Random, rows: number, cols: number): Rows {
  const vectors: number[][] = [];
  while (vectors.length < cols) {
    let v = Array.from({ length: rows }, () => random.normal());
    for (const u of vectors) {
      const d = dot(v, u);
      v = v.map((x, i) => x - d * (u[i] as number));
    }
    const norm = Math.sqrt(dot(v, v));
    vectors.push(v.map((x) => x / norm));
  }
  return transpose(vectors);
}

/** Leading eigenpairs of a symmetric matrix by power iteration with deflation: the naive reference. */
function powerEigen(g: Rows, count: number): { values: number[]; vectors: number[][] } {
  let a = g.map((row) => [...row]);
  const values: number[] = [];
  const vectors: number[][] = [];
  const random = new Random(5);
  for (let k = 0; k < count; k++) {
    let v = a.map(() => random.normal());
    for (let iteration = 0; iteration < 5000; iteration++) {
      const next = a.map((row) => dot(row, v));
      const norm = Math.sqrt(dot(next, next));
      v = next.map((x) => x / norm);
    }
    const lambda = dot(v, a.map((row) => dot(row, v)));
    values.push(lambda);
    vectors.push(v);
    a = a.map((row, i) => row.map((x, j) => x - lambda * (v[i] as number) * (v[j] as number)));
  }
  return { values, vectors };
}

describe('gramMatrix and projectRows', () => {
  it('equal plain loops, for row counts that do not fill the last block', () => {
    const random = new Random(1);
    for (const rows of [1, 7, 13]) {
      const a = randomRows(random, rows, 5);
      const m = matrix(a);
      const gram = gramMatrix(m);
      const expected = multiply(transpose(toRows(m)), toRows(m));
      expected.flat().forEach((x, i) => expect(gram[i]).toBeCloseTo(x, 10));
      const b = randomRows(random, 5, 3);
      const projected = projectRows(m, matrix(b));
      expect([projected.rows, projected.cols]).toEqual([rows, 3]);
      const naive = multiply(toRows(m), toRows(matrix(b)));
      naive.flat().forEach((x, i) => expect(projected.data[i]).toBeCloseTo(x, 5));
    }
  });
});

describe('symmetricEigen', () => {
  it('matches power iteration on a random Gram matrix: values, vectors up to sign, orthonormality, Σλ = trace', () => {
    const random = new Random(2);
    const a = randomRows(random, 30, 6);
    const g = multiply(transpose(a), a);
    const eigen = symmetricEigen(Float64Array.from(g.flat()), 6);
    const reference = powerEigen(g, 6);
    const vector = (i: number): number[] => Array.from(eigen.vectors.subarray(i * 6, i * 6 + 6));
    reference.values.forEach((lambda, i) => {
      expect(eigen.values[i]).toBeCloseTo(lambda, 6);
      expect(Math.abs(dot(vector(i), reference.vectors[i] as number[]))).toBeCloseTo(1, 6);
    });
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) expect(dot(vector(i), vector(j))).toBeCloseTo(i === j ? 1 : 0, 12);
      // G·v = λ·v
      const gv = g.map((row) => dot(row, vector(i)));
      gv.forEach((x, k) => expect(x).toBeCloseTo((eigen.values[i] as number) * (vector(i)[k] as number), 9));
    }
    const trace = g.reduce((s, row, i) => s + (row[i] as number), 0);
    expect(Array.from(eigen.values).reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 9);
  });

  it('gives each vector its largest component positive, and decomposes a diagonal or zero matrix as it is', () => {
    const eigen = symmetricEigen(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    expect(Array.from(eigen.values)).toEqual([3, 2, 1]);
    expect(Array.from(eigen.vectors)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(symmetricEigen(new Float64Array(4), 2).values)).toEqual([0, 0]);
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('truncatedSvd', () => {
  it('recovers a matrix built from a known SVD: singular values and right singular vectors', () => {
    const random = new Random(3);
    const singular = [6, 4, 2.5, 1, 0.5, 0.1];
    const u = orthonormalColumns(random, 40, 6);
    const v = orthonormalColumns(random, 6, 6);
    const a = multiply(u.map((row) => row.map((x, i) => x * (singular[i] as number))), transpose(v));
    const svd = truncatedSvd(matrix(a), 3);
    singular.forEach((s, i) => expect(Math.sqrt(svd.eigenvalues[i] as number)).toBeCloseTo(s, 4));
    const basis = toRows(svd.basis);
    for (let i = 0; i < 3; i++) expect(Math.abs(dot(column(basis, i), column(v, i)))).toBeCloseTo(1, 5);
    const energy = singular.map((s) => s * s);
    expect(svd.retainedEnergy).toBeCloseTo((energy[0]! + energy[1]! + energy[2]!) / energy.reduce((x, y) => x + y), 6);
  });

  it('the rank-k projection keeps the table and its Gram structure exactly as far as the discarded eigenvalues allow', () => {
    const random = new Random(4);
    // Columns of decreasing scale, so that the spectrum has a tail to discard.
    const a = randomRows(random, 50, 8).map((row) => row.map((x, c) => x / (c + 1)));
    const k = 3;
    const svd = truncatedSvd(matrix(a), k);
    const projected = toRows(projectRows(matrix(a), svd.basis)); // U_k·Σ_k, [50, k]
    const basis = toRows(svd.basis); // V_k, [8, k]
    const lambda = Array.from(svd.eigenvalues);
    const discarded = lambda.slice(k);
    // ‖A − A·V_k·V_kᵀ‖_F / ‖A‖_F = √(Σ discarded λ / Σ λ)
    const reconstruction = multiply(projected, transpose(basis));
    const relative = frobenius(minus(a, reconstruction)) / frobenius(a);
    expect(relative).toBeCloseTo(Math.sqrt(discarded.reduce((s, x) => s + x, 0) / lambda.reduce((s, x) => s + x, 0)), 5);
    expect(relative).toBeCloseTo(Math.sqrt(1 - svd.retainedEnergy), 5);
    // Token–token inner products: ‖A·Aᵀ − P·Pᵀ‖_F = √(Σ discarded λ²)
    const gramError = frobenius(minus(multiply(a, transpose(a)), multiply(projected, transpose(projected))));
    expect(gramError).toBeCloseTo(Math.sqrt(discarded.reduce((s, x) => s + x * x, 0)), 3);
    // V_kᵀ·V_k = I
    const vtv = multiply(transpose(basis), basis);
    vtv.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(i === j ? 1 : 0, 6)));
    // And no rank-k basis does better: a random orthonormal one loses more.
    const other = orthonormalColumns(random, 8, k);
    const otherError = frobenius(minus(a, multiply(multiply(a, other), transpose(other)))) / frobenius(a);
    expect(otherError).toBeGreaterThan(relative);
  });

  it('refuses a rank outside 1…columns', () => {
    const m = matrix(randomRows(new Random(6), 4, 3));
    for (const rank of [0, 4, 1.5]) expect(() => truncatedSvd(m, rank)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', where: { api: 'truncatedSvd', field: 'rank' } }));
  });
});

// Gradient-check cases for MatMul (2-D, the batched Gemm fold, attention shapes, broadcast batches) and Gemm.
import { type GradCase, gradCase } from '../gradcheck.ts';

function matmul(name: string, a: readonly number[], b: readonly number[]): GradCase {
  return gradCase({
    name: `MatMul ${name}`,
    ops: ['MatMul'],
    dtype: 'float64',
    inputs: { a: { shape: a }, b: { shape: b } },
    build: (g, { a, b }) => g.op.MatMul(a, b),
  });
}

/** Gemm with A [M,K]=[3,4] and B [K,N]=[4,2], stored transposed where the flags say so. */
function gemm(transA: 0 | 1, transB: 0 | 1, c: readonly number[] | null, scale: { alpha?: number; beta?: number } = {}): GradCase {
  const label = `transA=${transA} transB=${transB} C=${c ? `[${c.join(',')}]` : 'none'}${scale.alpha === undefined ? '' : ` alpha=${scale.alpha} beta=${scale.beta}`}`;
  const attrs = { transA, transB, ...scale };
  const a = { shape: transA ? [4, 3] : [3, 4] };
  const b = { shape: transB ? [2, 4] : [4, 2] };
  if (!c) return gradCase({ name: `Gemm ${label}`, ops: ['Gemm'], dtype: 'float64', inputs: { a, b }, build: (g, x) => g.op.Gemm(x.a, x.b, null, attrs) });
  return gradCase({
    name: `Gemm ${label}`,
    ops: ['Gemm'],
    dtype: 'float64',
    inputs: { a, b, c: { shape: c } },
    build: (g, x) => g.op.Gemm(x.a, x.b, x.c, attrs),
  });
}

export const linalgCases: GradCase[] = [
  matmul('2-D [3,4]×[4,5]', [3, 4], [4, 5]),
  // A 2-D weight under a batched input: the weight gradient takes the Gemm fold in rules/linalg.ts.
  matmul('3-D×2-D weight [2,3,4]×[4,5] (Gemm fold)', [2, 3, 4], [4, 5]),
  gradCase({
    name: 'MatMul [batch,seq,4]×[4,5] (symbolic dims, Gemm fold)',
    ops: ['MatMul'],
    dtype: 'float64',
    inputs: { a: { shape: [2, 3, 4], dims: ['batch', 'seq', 4] }, b: { shape: [4, 5] } },
    outputShape: [2, 3, 5],
    build: (g, { a, b }) => g.op.MatMul(a, b),
  }),
  matmul('4-D×4-D attention [2,2,3,4]×[2,2,4,3]', [2, 2, 3, 4], [2, 2, 4, 3]),
  matmul('broadcast batch [2,1,3,4]×[3,4,5]', [2, 1, 3, 4], [3, 4, 5]),
  matmul('2-D×3-D [3,4]×[2,4,5]', [3, 4], [2, 4, 5]),
  gemm(0, 0, [2]),
  gemm(0, 1, [3, 2]),
  gemm(1, 0, [2], { alpha: 0.5, beta: 2 }),
  gemm(1, 1, [3, 2], { alpha: -1.5, beta: 0.25 }),
  gemm(0, 0, [3, 1], { alpha: 2, beta: 1 }),
  gemm(1, 1, null),
  gemm(0, 1, [], { alpha: 1, beta: -0.5 }),
];

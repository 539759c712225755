// A narrower student's embeddings from its teacher's (XtremeDistil's --compress_word_embedding): the word
// embedding table A [vocab, hidden_t] becomes A·V_k = U_k·Σ_k, its best rank-k approximation (Eckart–Young)
// written in k = hidden_s coordinates, so that the inner products between tokens, the table's geometry, are kept
// as far as k dimensions allow. XtremeDistil's code does this with scikit-learn's PCA, which subtracts the mean
// row first; the uncentred SVD is used here because it approximates the table itself, mean direction included,
// so that the student's input below is the projection of the teacher's input and not of a copy shifted by −mean.
//
// The position and token-type tables are projected with the same V_k. The encoder's input is the sum word +
// position + type, put through LayerNorm; one V_k for all three makes the student's sum exactly the teacher's sum
// projected, (w + p + t)·V_k. Re-initializing them (as XtremeDistil leaves them) would add N(0, 0.02) vectors in
// directions unrelated to the projected words, where hidden-state transfer from the embedding layer on asks the
// student to reproduce that sum. The share of each table's energy V_k keeps is recorded: a position table can lie
// partly outside the words' leading directions.
import type { Parameter, ParamStore } from '../../ir/params.ts';
import { XlmtError } from '../../errors/index.ts';
import { type Matrix, projectRows, truncatedSvd } from './student-svd.ts';

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';
export const PROJECTED_EMBEDDINGS = [WORD_EMBEDDINGS, 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight'] as const;

export interface ProjectedEmbeddings {
  /** The projected tables, [rows, rank] each, by parameter name. */
  readonly params: ReadonlyMap<string, Parameter>;
  readonly rank: number;
  /** Per table: ‖X·V_k‖²_F / ‖X‖²_F, the share of its energy the projection keeps (1 for an all-zero table). */
  readonly energyKept: Readonly<Record<string, number>>;
  /** ‖A − A·V_k·V_kᵀ‖_F / ‖A‖_F for the word embeddings: √(discarded eigenvalues / all eigenvalues). */
  readonly wordRelativeError: number;
}

/** The teacher's three embedding tables projected to `rank` columns by the word embeddings' leading directions. */
export function projectEmbeddings(teacher: ParamStore, rank: number): ProjectedEmbeddings {
  const tables = PROJECTED_EMBEDDINGS.map((name) => matrixOf(teacher, name));
  const svd = truncatedSvd(tables[0] as Matrix, rank);
  const params = new Map<string, Parameter>();
  const energyKept: Record<string, number> = {};
  PROJECTED_EMBEDDINGS.forEach((name, i) => {
    const table = tables[i] as Matrix;
    const projected = projectRows(table, svd.basis);
    params.set(name, { name, shape: [projected.rows, projected.cols], data: projected.data });
    const before = squaredNorm(table.data);
    energyKept[name] = before === 0 ? 1 : squaredNorm(projected.data) / before;
  });
  return { params, rank, energyKept, wordRelativeError: Math.sqrt(Math.max(0, 1 - svd.retainedEnergy)) };
}

function matrixOf(params: ParamStore, name: string): Matrix {
  const p = params.get(name);
  if (!p || p.shape.length !== 2) {
    throw new XlmtError({ code: 'KEY_MISMATCH', message: 'the teacher has no such embedding table', where: { api: 'projectEmbeddings', tensor: name }, expected: 'a [rows, hidden] matrix' });
  }
  const bad = p.data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new XlmtError({ code: 'NON_FINITE', message: `the teacher's embedding table holds ${p.data[bad]} at flat index ${bad}`, where: { api: 'projectEmbeddings', tensor: name } });
  }
  return { data: p.data, rows: p.shape[0] as number, cols: p.shape[1] as number };
}

function squaredNorm(data: Float32Array): number {
  let sum = 0;
  for (const x of data) sum += x * x;
  return sum;
}

// One task's tf-idf: smoothed idf over the task's rows, only the features those rows hit, rows of unit length.
import { describe, expect, it } from 'vitest';
import { CsrBuilder, type Csr } from '../../src/baseline/sparse.ts';
import { fitVocabulary, tfidfRows, vocabularyLookup } from '../../src/baseline/tfidf.ts';

function csr(cols: number, rows: readonly (readonly [number, number][])[]): Csr {
  const builder = new CsrBuilder(cols);
  for (const row of rows) {
    for (const [c, v] of row) builder.append(c, v);
    builder.endRow();
  }
  return builder.build();
}

const rowOf = (x: Csr, i: number): [number, number][] =>
  Array.from({ length: x.indptr[i + 1]! - x.indptr[i]! }, (_, p) => [x.indices[x.indptr[i]! + p]!, x.values[x.indptr[i]! + p]!]);

describe('tf-idf', () => {
  // Buckets 0, 3, 5 are hit by the training rows 0 and 1; bucket 7 only by row 2, which is not one of them.
  const counts = csr(8, [[[0, 1], [3, 2]], [[3, 1], [5, 1]], [[3, 1], [7, 1]]]);

  it("keeps the training rows' buckets, with idf ln((1 + n) / (1 + df)) + 1", () => {
    const vocab = fitVocabulary(counts, [0, 1]);
    expect([...vocab.buckets]).toEqual([0, 3, 5]);
    expect([...vocab.idf]).toEqual([Math.log(3 / 2) + 1, 1, Math.log(3 / 2) + 1].map(Math.fround));
  });

  it('renumbers features densely, drops unknown buckets before normalizing, and scales rows to unit length', () => {
    const vocab = fitVocabulary(counts, [0, 1]);
    const x = tfidfRows(counts, [0, 2], vocab, vocabularyLookup(vocab, counts.cols));
    expect([x.rows, x.cols]).toEqual([2, 3]);
    const idf0 = Math.fround(Math.log(3 / 2) + 1);
    const norm = Math.hypot(idf0, 2);
    expect(rowOf(x, 0)).toEqual([[0, Math.fround(idf0 / norm)], [1, Math.fround(2 / norm)]]);
    expect(rowOf(x, 1)).toEqual([[1, 1]]); // bucket 7 is no feature: the row is bucket 3 alone
    const empty = tfidfRows(csr(8, [[[7, 1]]]), [0], vocab, vocabularyLookup(vocab, 8));
    expect(rowOf(empty, 0)).toEqual([]);
  });
});

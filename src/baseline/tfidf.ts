// One task's tf-idf: idf fitted on the task's training rows over the buckets they hit (the only features the
// task keeps, renumbered densely), then rows weighted by it and scaled to unit length.
import { CsrBuilder, type Csr } from './sparse.ts';

export interface Vocabulary {
  /** The hashed column of each kept feature, ascending: feature j is bucket buckets[j]. */
  readonly buckets: Int32Array;
  /** Smoothed idf per kept feature: ln((1 + n) / (1 + df)) + 1. */
  readonly idf: Float32Array;
}

/** The buckets hit by any of `rows` of the hashed counts, with their idf over those rows. */
export function fitVocabulary(counts: Csr, rows: ArrayLike<number>): Vocabulary {
  const df = new Int32Array(counts.cols);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) df[counts.indices[p]!]! += 1;
  }
  let kept = 0;
  for (let c = 0; c < df.length; c++) if (df[c]! > 0) kept += 1;
  const buckets = new Int32Array(kept);
  const idf = new Float32Array(kept);
  let j = 0;
  for (let c = 0; c < df.length; c++) {
    if (df[c] === 0) continue;
    buckets[j] = c;
    idf[j] = Math.log((1 + rows.length) / (1 + df[c]!)) + 1;
    j += 1;
  }
  return { buckets, idf };
}

/** Bucket → feature index (-1 for a bucket the vocabulary lacks) over `cols` hashed columns. */
export function vocabularyLookup(vocab: Vocabulary, cols: number): Int32Array {
  const lookup = new Int32Array(cols).fill(-1);
  vocab.buckets.forEach((bucket, j) => { lookup[bucket] = j; });
  return lookup;
}

/**
 * `rows` of the hashed counts as tf-idf over the vocabulary's features, each row L2-normalized; buckets the
 * vocabulary lacks are dropped first, so they weigh nothing in the norm. A row with none left stays empty.
 */
export function tfidfRows(counts: Csr, rows: ArrayLike<number>, vocab: Vocabulary, lookup: Int32Array): Csr {
  const builder = new CsrBuilder(vocab.buckets.length);
  const columns: number[] = [];
  const weights: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    columns.length = 0;
    weights.length = 0;
    let norm = 0;
    for (let p = counts.indptr[i]!; p < counts.indptr[i + 1]!; p++) {
      const j = lookup[counts.indices[p]!]!;
      if (j < 0) continue;
      const w = counts.values[p]! * vocab.idf[j]!;
      columns.push(j);
      weights.push(w);
      norm += w * w;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < columns.length; k++) builder.append(columns[k]!, weights[k]! * scale);
    builder.endRow();
  }
  return builder.build();
}

// Compressed sparse row matrices in typed arrays, built a row at a time, and the hashed count matrix of texts.
import { XlmtError } from '../errors/index.ts';
import type { FeatureHasher } from './features.ts';

/** Row i's columns are indices[indptr[i] .. indptr[i + 1]), ascending, with their values at the same positions. */
export interface Csr {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array; // [rows + 1]
  readonly indices: Int32Array; // [nnz]
  readonly values: Float32Array; // [nnz]
}

/** Entries appended row by row into arrays that double as they fill. */
export class CsrBuilder {
  private indices = new Int32Array(1 << 16);
  private values = new Float32Array(1 << 16);
  private indptr = new Int32Array(1024);
  private rows = 0;
  private nnz = 0;

  constructor(private readonly cols: number) {}

  /** Columns must come in ascending order within a row. */
  append(column: number, value: number): void {
    if (this.nnz === this.indices.length) this.grow();
    this.indices[this.nnz] = column;
    this.values[this.nnz] = value;
    this.nnz += 1;
  }

  endRow(): void {
    if (this.rows + 2 > this.indptr.length) {
      const indptr = new Int32Array(2 * this.indptr.length);
      indptr.set(this.indptr);
      this.indptr = indptr;
    }
    this.rows += 1;
    this.indptr[this.rows] = this.nnz;
  }

  build(): Csr {
    return { rows: this.rows, cols: this.cols, indptr: this.indptr.slice(0, this.rows + 1), indices: this.indices.slice(0, this.nnz), values: this.values.slice(0, this.nnz) };
  }

  private grow(): void {
    // Int32 positions in indptr: past 2^31 entries (some 16 GB of features) the matrix cannot be addressed.
    if (this.nnz >= 2 ** 31 - 1 - this.indices.length) {
      throw new XlmtError({
        code: 'BAD_ARGUMENT',
        message: `more than 2^31 non-zero features (${this.rows} rows so far)`,
        where: { api: 'CsrBuilder' },
        hint: 'Use fewer rows or shorter n-gram ranges (--char-ngrams, --word-ngrams)',
      });
    }
    const indices = new Int32Array(2 * this.indices.length);
    indices.set(this.indices);
    this.indices = indices;
    const values = new Float32Array(2 * this.values.length);
    values.set(this.values);
    this.values = values;
  }
}

/** One row per text: each bucket the text hits, with sublinear tf 1 + ln(count). */
export function hashedCounts(texts: Iterable<string>, hasher: FeatureHasher): Csr {
  const builder = new CsrBuilder(2 * hasher.settings.buckets);
  for (const text of texts) {
    const ids = hasher.hash(text).sort();
    let run = 0;
    for (let p = 0; p < ids.length; p++) {
      run += 1;
      if (p + 1 < ids.length && ids[p + 1] === ids[p]) continue;
      builder.append(ids[p]!, 1 + Math.log(run));
      run = 0;
    }
    builder.endRow();
  }
  return builder.build();
}

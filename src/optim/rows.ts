// Row gradients: validating them and grouping repeated indices so that each used row is visited once, summed.
import { badArgument } from './errors.ts';

/**
 * The distinct rows of a row gradient, each with a linked list of the positions that hold it, so callers can sum
 * duplicates one row at a time into a scratch row instead of materializing every summed row at once (an embedding
 * gradient of a large batch would otherwise cost another values-sized buffer per step).
 */
export interface RowGroups {
  /** Distinct row numbers, in order of first appearance. */
  readonly rows: Int32Array;
  /** For each distinct row, the first position in `indices` that holds it. */
  readonly first: Int32Array;
  /** For each position in `indices`, the next position holding the same row, or -1. */
  readonly next: Int32Array;
}

/** Floats per row; `where`/`param` name the caller and gradient in errors. */
export function rowWidth(indices: BigInt64Array, values: Float32Array, where: string, param: string): number {
  if (indices.length === 0) {
    if (values.length === 0) return 0;
    throw badArgument(where, `the row gradient has no indices but ${values.length} values`, { param, expected: '0 values', received: `${values.length}` });
  }
  const width = values.length / indices.length;
  if (!Number.isInteger(width)) {
    throw badArgument(where, `the row gradient has ${values.length} values for ${indices.length} indices`, { param, expected: 'a whole number of values per index', received: `${width.toFixed(3)} per index` });
  }
  return width;
}

/**
 * Groups `indices` by row and checks each is in [0, numRows). Pass `Number.MAX_SAFE_INTEGER` as `numRows` where
 * the table size is not known (norms over gradients alone).
 */
export function groupRows(indices: BigInt64Array, numRows: number, where: string, param: string): RowGroups {
  const n = indices.length;
  const limit = BigInt(numRows);
  const slotOf = new Map<number, number>();
  const rows = new Int32Array(n);
  const first = new Int32Array(n);
  const last = new Int32Array(n);
  const next = new Int32Array(n).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const index = indices[i]!;
    if (index < 0n || index >= limit) {
      throw badArgument(where, `the row gradient has index ${index} at position ${i}`, {
        param,
        expected: numRows === Number.MAX_SAFE_INTEGER ? 'a row index >= 0' : `a row index in [0, ${numRows})`,
        received: `${index}`,
      });
    }
    const row = Number(index);
    const slot = slotOf.get(row);
    if (slot === undefined) {
      slotOf.set(row, count);
      rows[count] = row;
      first[count] = i;
      last[count] = i;
      count++;
    } else {
      next[last[slot]!] = i;
      last[slot] = i;
    }
  }
  return { rows: rows.subarray(0, count), first: first.subarray(0, count), next };
}

/** Writes the sum of every occurrence of distinct row `u` into `out` (length `width`), in float64. */
export function sumRow(values: Float32Array, width: number, groups: RowGroups, u: number, out: Float64Array): void {
  out.fill(0);
  for (let pos = groups.first[u]!; pos !== -1; pos = groups.next[pos]!) {
    const base = pos * width;
    for (let j = 0; j < width; j++) out[j]! += values[base + j]!;
  }
}

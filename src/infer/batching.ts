// Length-bucketed batches: texts sorted by token count and cut into batches, each padded to its own longest
// row, so a short text never pays for a long one.
import { ATTENTION_MASK, INPUT_IDS, probsOutput } from './contract.ts';
import type { TensorData } from '../ir/tensor.ts';
import type { ModelFile } from '../runtime/model-file.ts';

export interface BatchingOptions {
  readonly padId: number;
  readonly batchSize: number;
}

/** Probabilities [ids.length, labels] per task, rows in the order of `ids`. */
export async function batchedProbabilities(
  model: ModelFile,
  ids: readonly Int32Array[],
  tasks: readonly { readonly name: string; readonly labels: readonly string[] }[],
  options: BatchingOptions,
): Promise<Map<string, Float32Array>> {
  const out = new Map(tasks.map((t) => [t.name, new Float32Array(ids.length * t.labels.length)]));
  for (const rows of lengthBuckets(ids, options.batchSize)) {
    const results = await model.run(paddedBatch(rows.map((r) => ids[r] as Int32Array), options.padId), tasks.map((t) => probsOutput(t.name)));
    for (const task of tasks) {
      const width = task.labels.length;
      const probs = results[probsOutput(task.name)]?.data as Float32Array;
      const target = out.get(task.name) as Float32Array;
      rows.forEach((row, b) => target.set(probs.subarray(b * width, (b + 1) * width), row * width));
    }
  }
  return out;
}

/** Row indices sorted by length, in batches of at most `batchSize`. */
export function lengthBuckets(ids: readonly { readonly length: number }[], batchSize: number): number[][] {
  const order = ids.map((_, i) => i).sort((a, b) => (ids[a] as { length: number }).length - (ids[b] as { length: number }).length);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/** input_ids and attention_mask, right-padded to the longest row. */
export function paddedBatch(rows: readonly ArrayLike<number>[], padId: number): Record<string, TensorData> {
  const seq = Math.max(1, ...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * seq);
  rows.forEach((row, b) => {
    for (let t = 0; t < row.length; t++) {
      inputIds[b * seq + t] = BigInt(row[t] as number);
      mask[b * seq + t] = 1n;
    }
  });
  return {
    [INPUT_IDS]: { dtype: 'int64', shape: [rows.length, seq], data: inputIds },
    [ATTENTION_MASK]: { dtype: 'int64', shape: [rows.length, seq], data: mask },
  };
}

// Length-bucketed batches: texts sorted by token count and cut into batches, each padded to its own longest
// row, so a short text never pays for a long one. Every probability that comes back is checked to be finite.
import { XlmtError } from '../errors/index.ts';
import { ATTENTION_MASK, INPUT_IDS, probsOutput } from './contract.ts';
import type { TensorData } from '../ir/tensor.ts';
import type { ModelFile } from '../runtime/model-file.ts';

export interface BatchingOptions {
  readonly padId: number;
  readonly batchSize: number;
}

/**
 * Probabilities [ids.length, labels] per task, rows in the order of `ids`. A NaN or infinite probability is
 * refused (NON_FINITE, naming the task, the text's index in `ids` and the label), never passed on as a score.
 */
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
      const probs = results[probsOutput(task.name)]?.data;
      if (!(probs instanceof Float32Array) || probs.length !== rows.length * width) {
        throw new XlmtError({
          code: 'BAD_MODEL',
          where: { file: model.source, node: probsOutput(task.name), task: task.name },
          message: 'the graph gives no float32 probabilities of the right size for this task',
          expected: `float32 [${rows.length}, ${width}]`,
          received: probs === undefined ? 'no output' : `${probs.constructor.name} of ${probs.length} values`,
        });
      }
      checkFinite(probs, rows, task, model.source);
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

function checkFinite(probs: Float32Array, rows: readonly number[], task: { readonly name: string; readonly labels: readonly string[] }, source: string): void {
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (Number.isFinite(p)) continue;
    const width = task.labels.length;
    const text = rows[Math.floor(i / width)] as number;
    const label = task.labels[i % width] as string;
    throw new XlmtError({
      code: 'NON_FINITE',
      where: { file: source, task: task.name },
      message: `the probability of ${JSON.stringify(label)} for text ${text} is ${p}`,
      expected: 'a probability from 0 to 1',
      hint: 'the model computes NaN or Inf here: export it again from a run whose weights are finite (xlmt export checks them), or report the text',
      details: { task: task.name, text, label, value: String(p) },
    });
  }
}

/** The rows `indices` of every task's probabilities, as an evaluation asks for a batch of them. */
export function gatherRows(probs: ReadonlyMap<string, Float32Array>, indices: readonly number[], tasks: readonly { readonly name: string; readonly labels: readonly string[] }[]): Map<string, Float32Array> {
  return new Map(tasks.map((t) => {
    const width = t.labels.length;
    const all = probs.get(t.name) as Float32Array;
    const out = new Float32Array(indices.length * width);
    indices.forEach((row, i) => out.set(all.subarray(row * width, (row + 1) * width), i * width));
    return [t.name, out];
  }));
}

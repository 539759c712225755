// Tiny student and teacher encoders, padded batches and a runner, for the intermediate-layer transfer tests.
import type { Graph } from '../../../src/ir/graph.ts';
import type { ParamStore } from '../../../src/ir/params.ts';
import type { TensorData } from '../../../src/ir/tensor.ts';
import { encoderConfig } from '../../../src/models/config.ts';
import { Session } from '../../../src/runtime/session.ts';
import type { Rng } from '../../autodiff/gradcheck.ts';
import type { Matrix } from './reference.ts';

export const studentConfig = encoderConfig({ vocabSize: 20, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 8 });
/** Wider and deeper, with a head pruned from its second layer: that layer's queries are 8 wide, not 12. */
export const teacherConfig = encoderConfig({ vocabSize: 20, hiddenSize: 12, numHiddenLayers: 3, numAttentionHeads: 3, intermediateSize: 16, maxPositionEmbeddings: 8, prunedHeads: { 1: [0] } });

/** Sequences of the given lengths padded to `seq`: token ids, positions, types and the attention mask. */
export function paddedBatch(lengths: readonly number[], seq: number, rng: Rng): { feeds: Record<string, TensorData>; mask: number[][] } {
  const n = lengths.length * seq;
  const ids = new BigInt64Array(n);
  const positions = new BigInt64Array(n);
  const mask = lengths.map((length) => Array.from({ length: seq }, (_, t) => (t < length ? 1 : 0)));
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(1 + Math.floor(rng() * 19));
    positions[i] = BigInt(i % seq);
  }
  const shape = [lengths.length, seq];
  return {
    mask,
    feeds: {
      input_ids: { dtype: 'int64', shape, data: ids },
      position_ids: { dtype: 'int64', shape, data: positions },
      token_type_ids: { dtype: 'int64', shape, data: new BigInt64Array(n) },
      attention_mask: { dtype: 'float32', shape, data: Float32Array.from(mask.flat()) },
    },
  };
}

export function randomRows(rng: Rng, rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(2 * rng() - 1)));
}

export const f32Rows = (rows: Matrix): TensorData => ({ dtype: 'float32', shape: [rows.length, (rows[0] ?? []).length], data: Float32Array.from(rows.flat()) });

/** A graph output [rows, cols] as rows of numbers. */
export function rowsOf(t: TensorData | undefined, what: string): Matrix {
  if (!t) throw new Error(`no output ${what}`);
  const cols = t.shape[1] as number;
  const values = Array.from(t.data as Float32Array);
  return Array.from({ length: t.shape[0] as number }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

/** A parameter as rows (a 2-D weight) or one row (a bias). */
export function paramRows(params: ParamStore, name: string): Matrix {
  const p = params.get(name);
  if (!p) throw new Error(`no parameter ${name}`);
  const cols = p.shape[p.shape.length - 1] as number;
  const values = Array.from(p.data);
  return Array.from({ length: values.length / cols }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

export async function runOnce(graph: Graph, feeds: Record<string, TensorData>, params?: ParamStore): Promise<Record<string, TensorData>> {
  const session = await Session.create(graph, { threads: 1 });
  try {
    return await session.run(feeds, params);
  } finally {
    await session.release();
  }
}

/** [batch*seq] rows → [batch][seq] rows. */
export function bySequence(rows: Matrix, seq: number): Matrix[] {
  return Array.from({ length: rows.length / seq }, (_, b) => rows.slice(b * seq, (b + 1) * seq));
}

// Parameters of the fused inference graph, derived from the Hugging Face-named store of a trained model.
//
// Naming: a tensor used as is keeps its Hugging Face name (and shares its data, no copy: a 250k-row embedding
// table is 768 MB). A tensor in another layout gets its own name, never the Hugging Face one, so a checkpoint key
// always means the checkpoint's layout:
//   `<scope>.kernel`  a dense weight transposed to [in, out] (as Flax names it) for MatMul
//   `<scope>.qkv.kernel`, `<scope>.qkv.bias`  query, key and value packed side by side, [in, 3·hidden] and [3·hidden]
//   `embeddings.position_token_type_embeddings.weight`  position rows plus token-type row 0
import { XlmtError } from '../errors/index.ts';
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { Parameter, ParamStore } from '../ir/params.ts';

/** [rows, cols] → [cols, rows] */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  // Blocks keep both the rows read and the rows written in cache (a 3072×768 weight is 9 MB).
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    for (let c0 = 0; c0 < cols; c0 += block) {
      const r1 = Math.min(r0 + block, rows);
      const c1 = Math.min(c0 + block, cols);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c] as number;
      }
    }
  }
  return out;
}

/** PyTorch Linear weights [out_i, in] → one kernel [in, Σ out_i], the blocks side by side in the given order. */
export function packKernels(weights: readonly Parameter[]): { shape: [number, number]; data: Float32Array } {
  const inFeatures = weights[0]?.shape[1];
  if (inFeatures === undefined) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'packKernels' }, message: 'no weights given' });
  const total = weights.reduce((n, w) => n + (w.shape[0] as number), 0);
  const out = new Float32Array(inFeatures * total);
  let offset = 0;
  for (const w of weights) {
    const [rows, cols] = w.shape as [number, number];
    if (cols !== inFeatures) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'packKernels', tensor: w.name }, message: `input width differs from ${weights[0]?.name}'s`, expected: `${inFeatures} inputs`, received: `${cols} inputs` });
    }
    const t = transpose(w.data, rows, cols); // [in, rows]
    for (let i = 0; i < inFeatures; i++) out.set(t.subarray(i * rows, (i + 1) * rows), i * total + offset);
    offset += rows;
  }
  return { shape: [inFeatures, total], data: out };
}

export function concatVectors(parts: readonly Parameter[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return out;
}

/** Every row of `table` [rows, width] plus `row` [width]. */
export function addRow(table: Parameter, row: Float32Array): Float32Array {
  const width = table.shape[1] as number;
  if (row.length !== width) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'addRow', tensor: table.name }, message: 'the row does not fit the table', expected: `${width} values`, received: `${row.length} values` });
  const out = new Float32Array(table.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (table.data[i] as number) + (row[i % width] as number);
  return out;
}

/**
 * Declares the fused graph's parameters while recording their values: `same` passes a Hugging Face tensor
 * through, `derived` stores a repacked one. Names are relative to the builder's current scope, as g.param's.
 */
export class ParamRepacker {
  readonly store = new Map<string, Parameter>();

  constructor(
    private readonly g: GraphBuilder,
    private readonly source: ParamStore,
  ) {}

  /** A source parameter by its name relative to the current scope, with its expected shape. */
  source1(name: string, shape: readonly number[]): Parameter {
    const full = this.fullName(name);
    const p = this.source.get(full);
    if (!p) {
      throw new XlmtError({ code: 'KEY_MISMATCH', where: { api: 'fusedInferenceGraph', tensor: full }, message: 'the parameters lack this tensor', expected: `[${shape.join(', ')}]`, hint: 'are the parameters those of a model of this config?' });
    }
    if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
      throw new XlmtError({ code: 'KEY_MISMATCH', where: { api: 'fusedInferenceGraph', tensor: full }, message: 'shape does not fit the config', expected: `[${shape.join(', ')}]`, received: `[${p.shape.join(', ')}]` });
    }
    return p;
  }

  same(name: string, shape: readonly number[]): Value {
    const p = this.source1(name, shape);
    const v = this.g.param(name, p.shape);
    this.store.set(v.name, p);
    return v;
  }

  derived(name: string, shape: readonly number[], data: Float32Array): Value {
    const v = this.g.param(name, shape);
    this.store.set(v.name, { name: v.name, shape: [...shape], data });
    return v;
  }

  /** `<name>.kernel` [in, out] from the PyTorch Linear weight `<name>.weight` [out, in]. */
  kernel(name: string, inFeatures: number, outFeatures: number): Value {
    const w = this.source1(`${name}.weight`, [outFeatures, inFeatures]);
    return this.derived(`${name}.kernel`, [inFeatures, outFeatures], transpose(w.data, outFeatures, inFeatures));
  }

  private fullName(name: string): string {
    return this.g.scopeName ? `${this.g.scopeName}.${name}` : name;
  }
}

// Gradient accumulation: micro-batch gradients added up into one step's gradient, averaged or summed.
import type { Gradient, Gradients } from '../ir/params.ts';
import { badArgument } from './errors.ts';
import { rowWidth } from './rows.ts';

export interface AccumulatorOptions {
  /**
   * 'mean' (default) divides by the number of micro-batches added, so that with equal-sized micro-batches and a
   * mean loss the result is the gradient of the whole batch; 'sum' leaves the total.
   */
  readonly reduction?: 'mean' | 'sum';
}

interface RowParts {
  readonly width: number;
  readonly indices: BigInt64Array[];
  readonly values: Float32Array[];
}

/**
 * Dense gradients are added into buffers the accumulator owns (kept across steps, so a 20M-float model allocates
 * them once); row gradients are copied and concatenated, leaving duplicate indices for the optimizer to sum.
 * A parameter missing from some micro-batches counts as a zero gradient there.
 */
export class GradientAccumulator {
  private readonly reduction: 'mean' | 'sum';
  private readonly dense = new Map<string, Float32Array>();
  private readonly present = new Set<string>();
  private readonly rows = new Map<string, RowParts>();
  private added = 0;
  private finished: Map<string, Gradient> | null = null;

  constructor(options: AccumulatorOptions = {}) {
    this.reduction = options.reduction ?? 'mean';
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.added;
  }

  /** Adds one micro-batch's gradients; they are copied, so the caller may reuse its arrays. */
  add(grads: Gradients): void {
    if (this.finished !== null) {
      throw badArgument('GradientAccumulator.add', 'gradients were added after result() and before reset()', { hint: 'Call reset() after each optimizer step' });
    }
    // Validate the whole micro-batch first, so a bad one is not half added.
    for (const [name, grad] of grads) this.check(name, grad);
    for (const [name, grad] of grads) {
      if (grad.kind === 'dense') this.addDense(name, grad.data);
      else this.addRows(name, grad.indices, grad.values);
    }
    this.added += 1;
  }

  /**
   * The step's gradients. Dense ones are views of the accumulator's buffers, valid until `reset()` (clipping may
   * scale them in place). Calling it again before `reset()` returns the same gradients.
   */
  result(): Gradients {
    if (this.finished !== null) return this.finished;
    if (this.added === 0) {
      throw badArgument('GradientAccumulator.result', 'no micro-batch was added since reset()');
    }
    const scale = this.reduction === 'mean' ? 1 / this.added : 1;
    const out = new Map<string, Gradient>();
    for (const name of this.present) {
      const data = this.dense.get(name);
      if (data === undefined) continue;
      if (scale !== 1) for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale;
      out.set(name, { kind: 'dense', data });
    }
    for (const [name, parts] of this.rows) out.set(name, concatRows(parts, scale));
    this.finished = out;
    return out;
  }

  /** Starts the next step; dense buffers are zeroed and kept. */
  reset(): void {
    for (const name of this.present) this.dense.get(name)?.fill(0);
    this.present.clear();
    this.rows.clear();
    this.added = 0;
    this.finished = null;
  }

  private check(name: string, grad: Gradient): void {
    const where = 'GradientAccumulator.add';
    const other = grad.kind === 'dense' ? this.rows.has(name) : this.present.has(name);
    if (other) {
      throw badArgument(where, 'the gradient changed kind between micro-batches', { param: name, expected: `a ${grad.kind === 'dense' ? 'row' : 'dense'} gradient, as before`, received: `a ${grad.kind} gradient` });
    }
    if (grad.kind === 'dense') {
      const buffer = this.present.has(name) ? this.dense.get(name) : undefined;
      if (buffer !== undefined && buffer.length !== grad.data.length) {
        throw badArgument(where, 'the gradient changed size', { param: name, expected: `${buffer.length} values`, received: `${grad.data.length}` });
      }
      return;
    }
    const width = rowWidth(grad.indices, grad.values, where, name);
    const parts = this.rows.get(name);
    if (parts !== undefined && parts.indices.length > 0 && grad.indices.length > 0 && parts.width !== width) {
      throw badArgument(where, 'the row gradient changed row width', { param: name, expected: `${parts.width} values per row`, received: `${width}` });
    }
  }

  private addDense(name: string, data: Float32Array): void {
    let buffer = this.dense.get(name);
    if (buffer === undefined || buffer.length !== data.length) {
      buffer = new Float32Array(data.length);
      this.dense.set(name, buffer);
    }
    this.present.add(name);
    for (let i = 0; i < data.length; i++) buffer[i] = buffer[i]! + data[i]!;
  }

  private addRows(name: string, indices: BigInt64Array, values: Float32Array): void {
    let parts = this.rows.get(name);
    if (parts === undefined || parts.indices.length === 0) {
      const width = indices.length > 0 ? values.length / indices.length : 0;
      parts = { width, indices: [], values: [] };
      this.rows.set(name, parts);
    }
    if (indices.length === 0) return;
    parts.indices.push(indices.slice());
    parts.values.push(values.slice());
  }
}

function concatRows(parts: RowParts, scale: number): Gradient {
  let count = 0;
  for (const chunk of parts.indices) count += chunk.length;
  const indices = new BigInt64Array(count);
  const values = new Float32Array(count * parts.width);
  let at = 0;
  for (let k = 0; k < parts.indices.length; k++) {
    const chunk = parts.indices[k]!;
    indices.set(chunk, at);
    values.set(parts.values[k]!, at * parts.width);
    at += chunk.length;
  }
  if (scale !== 1) for (let i = 0; i < values.length; i++) values[i] = values[i]! * scale;
  return { kind: 'rows', indices, values };
}

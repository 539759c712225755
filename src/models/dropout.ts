// Dropout with masks fed as graph inputs, drawn from a seeded generator per step.
// NOTE: ONNX Runtime's Dropout draws from a generator that lives inside the session, so a run resumed in a new
// session would draw other masks than the uninterrupted run. Masks drawn here from (seed, step) make every step
// reproducible wherever it runs, and drawing them in JS is cheaper than the Dropout kernel (measured with
// `xlmt bench train --profile`).
import { preview, XlmtError } from '../errors/index.ts';
import type { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import { numElements, resolveShape } from '../ir/shape.ts';
import type { TensorData } from '../ir/tensor.ts';
import { fillKeepMask, mixSeed } from '../util/random.ts';

export const DROPOUT_MASK_PREFIX = 'dropout_mask:';

/** Training-time dropout of x: kept units scaled by 1/(1 − ratio). Identity when ratio is 0. */
export function dropout(g: GraphBuilder, x: Value, ratio: number): Value {
  if (ratio <= 0) return x;
  if (ratio >= 1) throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'not a dropout ratio', where: { api: 'dropout' }, expected: 'a number in [0, 1)', received: preview(ratio) });
  const site = `${DROPOUT_MASK_PREFIX}${g.scopeName || 'root'}:${ratio}`;
  let name = site;
  for (let i = 1; g.has(name); i++) name = `${site}:${i}`;
  // The mask holds 0 or 1/(1 − ratio): one Mul forward and one backward (Where on a bool mask ran 2× slower).
  const mask = g.input(name, x.dtype, x.shape);
  return g.op.Mul(x, mask);
}

/** The ratio written into a mask input's name. */
function ratioOf(input: Value): number {
  const ratio = Number(input.name.slice(DROPOUT_MASK_PREFIX.length).split(':')[1]);
  if (!(ratio > 0 && ratio < 1)) throw new Error(`dropout mask input ${input.name} does not carry a ratio`);
  return ratio;
}

export function dropoutInputs(graph: Graph): Value[] {
  return graph.inputs.filter((v) => v.name.startsWith(DROPOUT_MASK_PREFIX));
}

/** Masks for every dropout input of `graph` at the given symbol sizes; the same (seed, step) gives the same masks. */
export function dropoutMasks(graph: Graph, sizes: Readonly<Record<string, number>>, seed: number, step: number): Record<string, TensorData> {
  const masks: Record<string, TensorData> = {};
  dropoutInputs(graph).forEach((input, site) => {
    const shape = resolveShape(input.shape, sizes);
    const data = new Float32Array(numElements(shape));
    const ratio = ratioOf(input);
    fillKeepMask(data, ratio, 1 / (1 - ratio), mixSeed(seed, step, site));
    masks[input.name] = { dtype: 'float32', shape, data };
  });
  return masks;
}

// Where LSQ's learned input steps start in a QAT run: max|x|/127 of each quantizer's input (compress/quantize/lsq.ts),
// the maxima taken over the first CALIBRATION_BATCHES micro-batches the run will train on, through the 'ema' graph
// of the same model (differentiate.ts calibrationGraph) with every range 0, so each activation is quantized with its
// own max|x| as the quantized network sees it. Dropout is off (masks of 1): the steps start at the grid that
// max-calibrated static int8 would give the model as it serves.
import { EmaRanges, lsqInitialSteps, MaxRanges } from '../compress/quantize/index.ts';
import type { Graph } from '../ir/graph.ts';
import type { Parameter } from '../ir/params.ts';
import { bindSymbols, numElements, resolveShape } from '../ir/shape.ts';
import type { TensorData } from '../ir/tensor.ts';
import { dropoutInputs } from '../models/dropout.ts';
import { type Feeds, Session } from '../runtime/session.ts';

/**
 * Micro-batches the steps are calibrated on: 8 × the batch size is 256 texts at the default batch of 32, enough that
 * a range reflects the data rather than one batch's longest text, and 8 forward passes cost next to nothing beside
 * a run of thousands of steps.
 */
export const CALIBRATION_BATCHES = 8;

/** Masks of 1 for every dropout input of `graph`, sized from the batch's own tensors: dropout off. */
function noDropout(graph: Graph, feeds: Feeds): Record<string, TensorData> {
  const sizes = bindSymbols(graph.inputs.flatMap((v) => {
    const t = feeds[v.name];
    return t ? [{ name: v.name, shape: v.shape, concrete: t.shape }] : [];
  }));
  const masks: Record<string, TensorData> = {};
  for (const input of dropoutInputs(graph)) {
    const shape = resolveShape(input.shape, sizes);
    masks[input.name] = { dtype: 'float32', shape, data: new Float32Array(numElements(shape)).fill(1) };
  }
  return masks;
}

/**
 * Sets every `<layer>.input_scale` of `params` from the max|x| its quantizer sees on `batches` (each a micro-batch's
 * training feeds). Returns the ranges observed, for the log.
 */
export async function calibrateSteps(
  graph: Graph, layers: readonly string[], params: Map<string, Parameter>, batches: AsyncIterable<Feeds>, threads: number,
): Promise<MaxRanges> {
  const observed = new MaxRanges(layers);
  const unobserved = new EmaRanges(layers).feeds();
  const session = await Session.create(graph, { threads });
  try {
    for await (const feeds of batches) {
      observed.observeOutputs(await session.run({ ...feeds, ...unobserved, ...noDropout(graph, feeds) }, params));
    }
  } finally {
    await session.release();
  }
  for (const [name, step] of lsqInitialSteps(observed)) params.get(name)?.data.set(step.data);
  return observed;
}

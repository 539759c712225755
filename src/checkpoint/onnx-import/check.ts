// Runs both sides of an import on the same batch: the ONNX file itself in ONNX Runtime (with the hidden states after
// the embeddings and after every layer added as outputs), and xlmt's encoder graph (src/models/encoder.ts) on the
// imported parameters; compares them token by token, layer by layer.
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../builder/builder.ts';
import { serialize } from '../../builder/serialize.ts';
import { XlmtError } from '../../errors/index.ts';
import type { TensorData } from '../../ir/tensor.ts';
import type { ParamStore } from '../../ir/params.ts';
import type { EncoderConfig } from '../../models/config.ts';
import { encoder, linear } from '../../models/encoder.ts';
import { encoderInputs } from '../../models/multitask.ts';
import { ModelFile } from '../../runtime/model-file.ts';
import { positionIds, type PositionConvention } from '../../tokenize/index.ts';
import type { OnnxGraph } from './read.ts';

const { onnx } = onnxProto;

/** A right-padded batch: ids and 0/1 mask, [batch, seq]. */
export interface Batch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly mask: Float32Array;
}

function tensor(elemType: number, shape: readonly number[], values: ArrayLike<number | bigint>): TensorData {
  const n = (v: number | bigint): number => Number(v);
  if (elemType === 7) return { dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) };
  if (elemType === 6) return { dtype: 'int32', shape, data: Int32Array.from(values, n) };
  if (elemType === 9) return { dtype: 'bool', shape, data: Uint8Array.from(values, n) };
  return { dtype: 'float32', shape, data: Float32Array.from(values, n) };
}

/**
 * Runs the ONNX file on `b`, fetching `values` (any value of the graph, added as outputs). Inputs are fed by name:
 * input_ids, a mask, token types (0), position ids (by `positions`, a guess: the graph cannot say when they are an input).
 */
export async function runOnnx(g: OnnxGraph, inputIds: string, b: Batch, positions: PositionConvention, values: readonly string[]): Promise<Map<string, TensorData>> {
  const shape = [b.batch, b.seq];
  const feeds: Record<string, TensorData> = {};
  for (const input of g.inputs) {
    if (input.name === inputIds) feeds[input.name] = tensor(input.elemType, shape, b.inputIds);
    else if (/mask/i.test(input.name)) feeds[input.name] = tensor(input.elemType, shape, b.mask);
    else if (/type|segment/i.test(input.name)) feeds[input.name] = tensor(input.elemType, shape, new Float32Array(b.batch * b.seq));
    else if (/position/i.test(input.name)) feeds[input.name] = tensor(input.elemType, shape, positionIds({ batch: b.batch, seq: b.seq, inputIds: b.inputIds }, positions));
    else {
      throw new XlmtError({ code: 'UNSUPPORTED', where: { file: g.source }, message: `the graph has an input xlmt cannot feed: ${input.name}`, expected: 'input_ids, attention_mask, token_type_ids, position_ids' });
    }
  }
  const proto = g.proto;
  const outputs = [...(proto.graph?.output ?? []), ...values.filter((v) => !g.outputs.includes(v)).map((name) => ({ name }))];
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ ...proto, graph: { ...proto.graph, output: outputs } })).finish();
  const file = await ModelFile.load(bytes, { threads: 1, optimization: 'basic' }, g.source);
  try {
    const results = await file.run(feeds, [...new Set(values)]);
    return new Map(Object.entries(results));
  } finally {
    await file.release();
  }
}

/** xlmt's encoder on `params`: hidden states after the embeddings and each layer, and the pooled output with a pooler. */
export async function runXlmt(config: EncoderConfig, params: ParamStore, b: Batch, positions: PositionConvention): Promise<{ stages: Float32Array[]; pooled: Float32Array | null }> {
  const g = new GraphBuilder('onnx-import-check');
  const inputs = encoderInputs(g);
  const hidden = encoder(g, config, inputs, { training: false }); // [batch*seq, hidden]
  const norms = g.build().nodes.filter((n) => n.opType === 'LayerNormalization').map((n) => n.outputs[0]);
  // LayerNorms in build order: the embeddings', then two per layer (after attention, after the FFN).
  const stages = [norms[0], ...Array.from({ length: config.numHiddenLayers }, (_, i) => norms[2 * i + 2])];
  stages.forEach((v, i) => v && g.output(`stage.${i}`, v));
  if (params.has('pooler.dense.weight')) {
    const perSequence = g.op.Reshape(hidden, g.op.Concat([g.op.Shape(inputs.inputIds), g.ints([config.hiddenSize])], 0)); // [batch, seq, hidden]
    const first = g.op.Squeeze(g.op.Slice(perSequence, [0], [1], [1]), [1]); // [batch, hidden]
    g.output('pooled', g.op.Tanh(linear(g, 'pooler.dense', first, config.hiddenSize, config.hiddenSize)));
  }
  const graph = g.build();
  const file = await ModelFile.load(serialize(graph, { params }), { threads: 1 }, 'xlmt encoder graph');
  try {
    const shape = [b.batch, b.seq];
    const out = await file.run({
      input_ids: { dtype: 'int64', shape, data: b.inputIds },
      position_ids: { dtype: 'int64', shape, data: positionIds({ batch: b.batch, seq: b.seq, inputIds: b.inputIds }, positions) },
      token_type_ids: { dtype: 'int64', shape, data: new BigInt64Array(b.batch * b.seq) },
      attention_mask: { dtype: 'float32', shape, data: b.mask },
    });
    return {
      stages: stages.map((_, i) => out[`stage.${i}`]?.data as Float32Array),
      pooled: (out['pooled']?.data as Float32Array | undefined) ?? null,
    };
  } finally {
    await file.release();
  }
}

/** Largest |a − b| over the unpadded tokens (rows of `width` values, one per token); NaN when a side has NaN. */
export function maxAbsDiffOnTokens(a: ArrayLike<number>, b: ArrayLike<number>, mask: Float32Array, width: number): number {
  if (a.length !== b.length || a.length !== mask.length * width) return Number.NaN;
  let worst = 0;
  for (let t = 0; t < mask.length; t++) {
    if (mask[t] === 0) continue;
    for (let j = t * width; j < (t + 1) * width; j++) {
      const d = Math.abs((a[j] as number) - (b[j] as number));
      if (!(d <= worst)) worst = Number.isNaN(d) ? Number.NaN : d;
      if (Number.isNaN(worst)) return worst;
    }
  }
  return worst;
}

/** Largest |a − b| over all values (the pooled output has one row per sequence). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.NaN;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (Number.isNaN(d)) return d;
    worst = Math.max(worst, d);
  }
  return worst;
}

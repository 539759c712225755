// The fused inference graph: the reference graph's contract and numbers, built on ONNX Runtime's fused
// com.microsoft kernels where they are faster. Embeddings: one EmbedLayerNormalization. Per layer: Attention
// (packed QKV projection, scores, mask, softmax and context in one kernel), then the dense layers as MatMul on
// [in, out] kernels, which the int8 pass (quantize.ts) turns into DynamicQuantizeMatMul. What follows each dense
// layer (bias, residual, LayerNorm, GELU) comes in two kernel sets, see Epilogues.
import { XlmtError } from '../errors/index.ts';
import { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import { type EncoderConfig, layerShape } from '../models/config.ts';
import { TASK_NAME, type TaskHead, taskLogits } from '../models/heads.ts';
import type { Pooling } from '../models/multitask.ts';
import type { Positions } from '../train/feeds.ts';
import { ATTENTION_MASK, INPUT_IDS } from '../infer/contract.ts';
import { addTaskOutputs, type InferenceGraphOptions, positionIdsInGraph } from './graph.ts';
import { addRow, concatVectors, packKernels, ParamRepacker } from './repack.ts';

export type EpilogueKind = 'contrib' | 'standard';

export interface FusedGraphOptions extends InferenceGraphOptions {
  /** See Epilogues below; default DEFAULT_EPILOGUES. */
  readonly epilogues?: EpilogueKind;
}

/**
 * 'standard': on ONNX Runtime 1.30's CPU provider, SkipLayerNormalization and BiasGelu take about twice the time
 * of Add + LayerNormalization and Gelu (docs/inference-graph.md has the measurements).
 */
export const DEFAULT_EPILOGUES: EpilogueKind = 'standard';

export interface FusedGraph {
  readonly graph: Graph;
  /** The fused graph's parameters: Hugging Face tensors used as is (shared, not copied) and repacked ones. */
  readonly params: ParamStore;
}

/**
 * LayerNorm(word + position + token type 0). Token types are always 0 in this contract, so row 0 of the
 * token-type table is added to every position row once, here, instead of on every token: exact up to the order
 * of one float addition. BERT positions 0…seq−1 are the kernel's default; RoBERTa positions (offset by the
 * padding index, padding itself at the padding index) come from the mask. [batch, seq, hidden]
 */
function embeddings(g: GraphBuilder, c: EncoderConfig, p: ParamRepacker, inputIds: Value, mask: Value, positions: Positions): Value {
  const { op } = g;
  return g.scope('embeddings', () => {
    const h = c.hiddenSize;
    const tokenType0 = p.source1('token_type_embeddings.weight', [c.typeVocabSize, h]).data.subarray(0, h);
    const positionTable = p.source1('position_embeddings.weight', [c.maxPositionEmbeddings, h]);
    const positionIds = positions.convention === 'bert' ? undefined : op.Cast(positionIdsInGraph(g, inputIds, mask, positions), 'int32');
    const [hidden] = op.ms.EmbedLayerNormalization({
      inputIds: op.Cast(inputIds, 'int32'),
      wordEmbedding: p.same('word_embeddings.weight', [c.vocabSize, h]),
      positionEmbedding: p.derived('position_token_type_embeddings.weight', [c.maxPositionEmbeddings, h], addRow(positionTable, tokenType0)),
      gamma: p.same('LayerNorm.weight', [h]),
      beta: p.same('LayerNorm.bias', [h]),
      ...(positionIds ? { positionIds } : {}),
    }, { epsilon: c.layerNormEps });
    return hidden as Value;
  });
}

/**
 * How a layer's dense outputs meet their bias, the residual, LayerNorm and GELU, and the layout of hidden states
 * between layers:
 * - 'contrib': SkipLayerNormalization (bias + residual + LayerNorm) and BiasGelu on 3-D [batch, seq, hidden], what
 *   ONNX Runtime's transformer optimizer produces;
 * - 'standard': MatMul + Add (ONNX Runtime folds the bias into a Gemm; the int8 pass into DynamicQuantizeMatMul),
 *   Add + LayerNormalization and Gelu on 2-D [batch·seq, hidden]. 2-D on purpose: on 3-D states ONNX Runtime's
 *   own optimizer rewrites Add + LayerNormalization into SkipLayerNormalization, the slower kernel here.
 */
interface Epilogues {
  /** LayerNorm(x·kernel + bias + residual) */
  residualNorm(x: Value, kernel: Value, bias: Value, residual: Value, gamma: Value, beta: Value): Value;
  /** GELU(x·kernel + bias) */
  biasGelu(x: Value, kernel: Value, bias: Value): Value;
  /** Hidden states to Attention's [batch, seq, hidden] and back; `width` is the last dimension (default hidden). */
  toAttention(x: Value): Value;
  fromAttention(y: Value, width?: number): Value;
}

function epilogues(g: GraphBuilder, c: EncoderConfig, kind: EpilogueKind, batchSeqHidden: Value): Epilogues {
  const { op } = g;
  const eps = { epsilon: c.layerNormEps };
  if (kind === 'contrib') {
    return {
      residualNorm: (x, kernel, bias, residual, gamma, beta) => op.ms.SkipLayerNormalization(op.MatMul(x, kernel), residual, gamma, beta, bias, eps),
      biasGelu: (x, kernel, bias) => op.ms.BiasGelu(op.MatMul(x, kernel), bias),
      toAttention: (x) => x,
      fromAttention: (y) => y,
    };
  }
  return {
    residualNorm: (x, kernel, bias, residual, gamma, beta) =>
      op.LayerNormalization(op.Add(op.Add(op.MatMul(x, kernel), bias), residual), gamma, beta, eps)[0] as Value,
    biasGelu: (x, kernel, bias) => op.Gelu(op.Add(op.MatMul(x, kernel), bias)),
    toAttention: (x) => op.Reshape(x, batchSeqHidden), // [batch*seq, hidden] → [batch, seq, hidden]
    fromAttention: (y, width = c.hiddenSize) => op.Reshape(y, [-1, width]),
  };
}

/**
 * One encoder layer; x hidden states, mask int32 [batch, seq]. A head-pruned layer packs only the heads it keeps:
 * Attention reads the query, key and value widths (equal) from the bias, and the head size from num_heads.
 */
function layer(g: GraphBuilder, c: EncoderConfig, p: ParamRepacker, e: Epilogues, i: number, x: Value, mask: Value): Value {
  const h = c.hiddenSize;
  const { heads, attentionSize: a, intermediateSize: f } = layerShape(c, i);
  return g.scope(`layer.${i}`, () => {
    const context = g.scope('attention.self', () => {
      const qkv = ['query', 'key', 'value'].map((name) => p.source1(`${name}.weight`, [a, h]));
      const bias = ['query', 'key', 'value'].map((name) => p.source1(`${name}.bias`, [a]));
      const packed = packKernels(qkv);
      return e.fromAttention(g.op.ms.Attention(e.toAttention(x), p.derived('qkv.kernel', packed.shape, packed.data),
        p.derived('qkv.bias', [3 * a], concatVectors(bias)), mask, { num_heads: heads.length }), a);
    });
    const attended = g.scope('attention.output', () =>
      e.residualNorm(context, p.kernel('dense', a, h), p.same('dense.bias', [h]), x, p.same('LayerNorm.weight', [h]), p.same('LayerNorm.bias', [h])));
    const inner = g.scope('intermediate', () => e.biasGelu(attended, p.kernel('dense', h, f), p.same('dense.bias', [f])));
    return g.scope('output', () =>
      e.residualNorm(inner, p.kernel('dense', f, h), p.same('dense.bias', [h]), attended, p.same('LayerNorm.weight', [h]), p.same('LayerNorm.bias', [h])));
  });
}

/** [batch, seq, hidden] → [batch, hidden]: the first token, or the mean over unpadded tokens. */
function pool(g: GraphBuilder, hidden: Value, mask: Value, pooling: Pooling): Value {
  const { op } = g;
  if (pooling === 'cls') return op.Gather(hidden, g.scalar(0, 'int64'), 1);
  const weights = op.Unsqueeze(op.Cast(mask, 'float32'), [2]); // [batch, seq, 1]
  const summed = op.ReduceSum(op.Mul(hidden, weights), [1], { keepdims: false }); // [batch, hidden]
  return op.Div(summed, op.Max(op.ReduceSum(weights, [1], { keepdims: false }), g.scalar(1, 'float32')));
}

/**
 * The fused inference graph of a trained classifier, with its parameters derived from `params` (Hugging Face
 * names). Same inputs and outputs as referenceInferenceGraph; serialize with the returned params to embed them.
 * Task heads stay fp32 Gemm on the Hugging Face tensors: [batch, hidden]·[hidden, labels] costs nothing next to
 * the encoder, and the int8 pass (which targets MatMul) leaves them exact.
 */
export function fusedInferenceGraph(config: EncoderConfig, tasks: readonly TaskHead[], options: FusedGraphOptions, params: ParamStore): FusedGraph {
  if (tasks.length === 0) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'fusedInferenceGraph' }, message: 'an inference graph needs at least one task' });
  for (const t of tasks) {
    if (!TASK_NAME.test(t.name)) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'fusedInferenceGraph', task: t.name }, message: 'the task name cannot name parameters and outputs', expected: `a name matching ${TASK_NAME}` });
    }
  }
  const g = new GraphBuilder(options.name ?? 'xlmt-classifier');
  const p = new ParamRepacker(g, params);
  const { op } = g;
  const inputIds = g.input(INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const rawMask = op.Cast(mask, 'int32'); // Attention's mask_index as a raw [batch, seq] mask: any padding pattern
  const batchSeqHidden = op.Concat([op.Shape(inputIds), g.ints([config.hiddenSize])], 0);
  const e = epilogues(g, config, options.epilogues ?? DEFAULT_EPILOGUES, batchSeqHidden);
  let hidden = e.fromAttention(embeddings(g, config, p, inputIds, mask, options.positions));
  g.scope('encoder', () => {
    for (let i = 0; i < config.numHiddenLayers; i++) hidden = layer(g, config, p, e, i, hidden, rawMask);
  });
  const logits = taskLogits(g, options.headStyle, pool(g, e.toAttention(hidden), mask, options.pooling), config.hiddenSize, tasks, {
    dense: (name, x, inFeatures, outFeatures) => g.scope(name, () =>
      op.Gemm(x, p.same('weight', [outFeatures, inFeatures]), p.same('bias', [outFeatures]), { transB: 1 })),
    dropout: (x) => x,
  });
  addTaskOutputs(g, tasks, logits);
  return { graph: g.build(), params: p.store };
}

// The fused inference graph: the reference graph's contract and numbers, built from ONNX Runtime's fused
// com.microsoft kernels. Per layer: Attention (packed QKV projection, scores, softmax, context), MatMul +
// SkipLayerNormalization (projection bias, residual and LayerNorm in one pass), MatMul + BiasGelu, MatMul +
// SkipLayerNormalization. Hidden states are 3-D [batch, seq, hidden]; dense weights are [in, out] kernels for
// MatMul, which the int8 pass (quantize.ts) turns into DynamicQuantizeMatMul.
import { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import type { EncoderConfig } from '../models/config.ts';
import { TASK_NAME, type TaskHead } from '../models/heads.ts';
import type { Pooling } from '../models/multitask.ts';
import type { Positions } from '../train/feeds.ts';
import { ATTENTION_MASK, INPUT_IDS } from './contract.ts';
import { addTaskOutputs, type InferenceGraphOptions, positionIdsInGraph } from './graph.ts';
import { addRow, concatVectors, packKernels, ParamRepacker } from './repack.ts';

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

/** One encoder layer; x [batch, seq, hidden], mask int32 [batch, seq] → [batch, seq, hidden]. */
function layer(g: GraphBuilder, c: EncoderConfig, p: ParamRepacker, i: number, x: Value, mask: Value): Value {
  const { op } = g;
  const h = c.hiddenSize;
  const eps = { epsilon: c.layerNormEps };
  return g.scope(`layer.${i}`, () => {
    const context = g.scope('attention.self', () => {
      const qkv = ['query', 'key', 'value'].map((name) => p.source1(`${name}.weight`, [h, h]));
      const bias = ['query', 'key', 'value'].map((name) => p.source1(`${name}.bias`, [h]));
      const packed = packKernels(qkv);
      return op.ms.Attention(x, p.derived('qkv.kernel', packed.shape, packed.data), p.derived('qkv.bias', [3 * h], concatVectors(bias)), mask,
        { num_heads: c.numAttentionHeads });
    });
    const attended = g.scope('attention.output', () =>
      op.ms.SkipLayerNormalization(op.MatMul(context, p.kernel('dense', h, h)), x, p.same('LayerNorm.weight', [h]), p.same('LayerNorm.bias', [h]),
        p.same('dense.bias', [h]), eps));
    const inner = g.scope('intermediate', () =>
      op.ms.BiasGelu(op.MatMul(attended, p.kernel('dense', h, c.intermediateSize)), p.same('dense.bias', [c.intermediateSize])));
    return g.scope('output', () =>
      op.ms.SkipLayerNormalization(op.MatMul(inner, p.kernel('dense', c.intermediateSize, h)), attended, p.same('LayerNorm.weight', [h]),
        p.same('LayerNorm.bias', [h]), p.same('dense.bias', [h]), eps));
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
export function fusedInferenceGraph(config: EncoderConfig, tasks: readonly TaskHead[], options: InferenceGraphOptions, params: ParamStore): FusedGraph {
  if (tasks.length === 0) throw new Error('an inference graph needs at least one task');
  for (const t of tasks) {
    if (!TASK_NAME.test(t.name)) throw new Error(`task name "${t.name}" must match ${TASK_NAME} (it names parameters and outputs)`);
  }
  const g = new GraphBuilder(options.name ?? 'xlmt-classifier');
  const p = new ParamRepacker(g, params);
  const { op } = g;
  const inputIds = g.input(INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const rawMask = op.Cast(mask, 'int32'); // Attention's mask_index as a raw [batch, seq] mask: any padding pattern
  let hidden = embeddings(g, config, p, inputIds, mask, options.positions);
  g.scope('encoder', () => {
    for (let i = 0; i < config.numHiddenLayers; i++) hidden = layer(g, config, p, i, hidden, rawMask);
  });
  const pooled = pool(g, hidden, mask, options.pooling);
  const logits = new Map<string, Value>();
  for (const task of tasks) {
    const z = g.scope('heads', () => g.scope(task.name, () =>
      op.Gemm(pooled, p.same('weight', [task.labels.length, config.hiddenSize]), p.same('bias', [task.labels.length]), { transB: 1 })));
    logits.set(task.name, z);
  }
  addTaskOutputs(g, tasks, logits);
  return { graph: g.build(), params: p.store };
}

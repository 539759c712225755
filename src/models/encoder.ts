// The BERT/XLM-R encoder as an ONNX graph, parameter names identical to Hugging Face's.
// Hidden states stay 2-D, [batch*seq, hidden], so every projection is one Gemm with transB (weights are
// stored [out, in] as in PyTorch's nn.Linear); only attention reshapes to heads.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import { charNgramEmbedding, type CharNgramInputs } from './char-ngrams.ts';
import type { EncoderConfig } from './config.ts';
import { dropout } from './dropout.ts';

export interface EncoderInputs {
  /** int64 [batch, seq] */
  readonly inputIds: Value;
  /** int64 [batch, seq] */
  readonly positionIds: Value;
  /** int64 [batch, seq] */
  readonly tokenTypeIds: Value;
  /** float32 [batch, seq]: 1 for tokens, 0 for padding. */
  readonly attentionMask: Value;
  /** Training with character n-gram embeddings added to the word embeddings (see char-ngrams.ts). */
  readonly charNgrams?: CharNgramInputs;
}

export interface EncoderOptions {
  /** Training mode adds dropout (masks fed per step, see dropout.ts); inference graphs leave it out. */
  readonly training: boolean;
}

/** y = x·Wᵀ + b for x [rows, in], W [out, in]. */
export function linear(g: GraphBuilder, name: string, x: Value, inFeatures: number, outFeatures: number): Value {
  return g.scope(name, () => g.op.Gemm(x, g.param('weight', [outFeatures, inFeatures]), g.param('bias', [outFeatures]), { transB: 1 }));
}

export function layerNorm(g: GraphBuilder, name: string, x: Value, size: number, eps: number): Value {
  return g.scope(name, () => g.op.LayerNormalization(x, g.param('weight', [size]), g.param('bias', [size]), { epsilon: eps })[0] as Value);
}

/** Dropout in training graphs only. */
export function dropoutWhenTraining(g: GraphBuilder, x: Value, ratio: number, options: EncoderOptions): Value {
  return options.training ? dropout(g, x, ratio) : x;
}

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as BERT's "gelu". ONNX Runtime's fused com.microsoft Gelu computes
 * it in one kernel and keeps only x alive for the backward pass (the primitive form keeps four tensors).
 */
export function gelu(g: GraphBuilder, x: Value): Value {
  return g.op.Gelu(x);
}

function embeddings(g: GraphBuilder, c: EncoderConfig, inputs: EncoderInputs, options: EncoderOptions): Value {
  return g.scope('embeddings', () => {
    const { op } = g;
    const rows = op.Gather(g.param('word_embeddings.weight', [c.vocabSize, c.hiddenSize]), inputs.inputIds);
    const words = inputs.charNgrams ? op.Add(rows, charNgramEmbedding(g, inputs.charNgrams, c.hiddenSize)) : rows;
    const positions = op.Gather(g.param('position_embeddings.weight', [c.maxPositionEmbeddings, c.hiddenSize]), inputs.positionIds);
    const types = op.Gather(g.param('token_type_embeddings.weight', [c.typeVocabSize, c.hiddenSize]), inputs.tokenTypeIds);
    const sum = op.Reshape(op.Add(op.Add(words, positions), types), [-1, c.hiddenSize]); // [batch*seq, hidden]
    return dropoutWhenTraining(g, layerNorm(g, 'LayerNorm', sum, c.hiddenSize, c.layerNormEps), c.hiddenDropoutProb, options);
  });
}

function selfAttention(g: GraphBuilder, c: EncoderConfig, x: Value, mask: Value, batchSeq: Value, options: EncoderOptions): Value {
  const { op } = g;
  const heads = c.numAttentionHeads;
  const headDim = c.hiddenSize / heads;
  const project = (name: string): Value => {
    const flat = linear(g, name, x, c.hiddenSize, c.hiddenSize); // [batch*seq, hidden]
    return op.Reshape(flat, op.Concat([batchSeq, g.ints([heads, headDim])], 0)); // [batch, seq, heads, headDim]
  };
  // Scaling q by 1/√headDim before the product touches seq·headDim values per head instead of seq².
  const q = op.Transpose(op.Mul(project('query'), 1 / Math.sqrt(headDim)), [0, 2, 1, 3]); // [batch, heads, seq, headDim]
  const k = op.Transpose(project('key'), [0, 2, 3, 1]); // [batch, heads, headDim, seq]
  const v = op.Transpose(project('value'), [0, 2, 1, 3]); // [batch, heads, seq, headDim]
  const scores = op.Add(op.MatMul(q, k), mask); // [batch, heads, seq, seq]
  const probs = dropoutWhenTraining(g, op.Softmax(scores, { axis: -1 }), c.attentionProbsDropoutProb, options);
  const context = op.Transpose(op.MatMul(probs, v), [0, 2, 1, 3]); // [batch, seq, heads, headDim]
  return op.Reshape(context, [-1, c.hiddenSize]); // [batch*seq, hidden]
}

function layer(g: GraphBuilder, c: EncoderConfig, i: number, x: Value, mask: Value, batchSeq: Value, options: EncoderOptions): Value {
  return g.scope(`layer.${i}`, () => {
    const { op } = g;
    const context = g.scope('attention.self', () => selfAttention(g, c, x, mask, batchSeq, options));
    const attended = g.scope('attention.output', () => {
      const projected = dropoutWhenTraining(g, linear(g, 'dense', context, c.hiddenSize, c.hiddenSize), c.hiddenDropoutProb, options);
      return layerNorm(g, 'LayerNorm', op.Add(projected, x), c.hiddenSize, c.layerNormEps);
    });
    const inner = g.scope('intermediate', () => gelu(g, linear(g, 'dense', attended, c.hiddenSize, c.intermediateSize)));
    return g.scope('output', () => {
      const projected = dropoutWhenTraining(g, linear(g, 'dense', inner, c.intermediateSize, c.hiddenSize), c.hiddenDropoutProb, options);
      return layerNorm(g, 'LayerNorm', op.Add(projected, attended), c.hiddenSize, c.layerNormEps);
    });
  });
}

/** Runs the encoder; returns the last hidden states, [batch*seq, hidden]. */
export function encoder(g: GraphBuilder, c: EncoderConfig, inputs: EncoderInputs, options: EncoderOptions): Value {
  const { op } = g;
  const batchSeq = op.Shape(inputs.inputIds); // [batch, seq] as a shape vector
  // Additive mask: 0 where attended, a large negative where padded. [batch, 1, 1, seq]
  const blocked = op.Mul(op.Sub(1, inputs.attentionMask), -1e9);
  const mask = op.Unsqueeze(blocked, [1, 2]);
  let hidden = embeddings(g, c, inputs, options);
  g.scope('encoder', () => {
    for (let i = 0; i < c.numHiddenLayers; i++) hidden = layer(g, c, i, hidden, mask, batchSeq, options);
  });
  return hidden;
}

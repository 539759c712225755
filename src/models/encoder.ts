// The BERT/XLM-R encoder as an ONNX graph, parameter names identical to Hugging Face's.
// Hidden states stay 2-D, [batch*seq, hidden], so every projection is one Gemm with transB (weights are
// stored [out, in] as in PyTorch's nn.Linear); only attention reshapes to heads.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import { charNgramEmbedding, type CharNgramInputs } from './char-ngrams.ts';
import { type EncoderConfig, layerShape, type LayerShape } from './config.ts';
import { dropout } from './dropout.ts';
import { maskHeads, maskNeurons } from './unit-masks.ts';

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
  /** Adds a mask parameter per layer over its heads and its FFN neurons (see unit-masks.ts), for importance. */
  readonly unitMasks?: boolean;
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

/** A layer's query, key and value projections before the split into heads, [batch*seq, heads·headDim] each. */
export interface AttentionProjections {
  readonly query: Value;
  readonly key: Value;
  readonly value: Value;
}

/**
 * Attention over the heads the layer keeps; returns the context [batch*seq, heads·headDim], the probabilities and
 * the query, key and value projections.
 */
function selfAttention(g: GraphBuilder, c: EncoderConfig, shape: LayerShape, x: Value, mask: Value, batchSeq: Value, options: EncoderOptions): { context: Value; probs: Value; projections: AttentionProjections } {
  const { op } = g;
  const heads = shape.heads.length;
  const headDim = shape.headSize;
  const project = (name: string): { flat: Value; split: Value } => {
    const flat = linear(g, name, x, c.hiddenSize, shape.attentionSize); // [batch*seq, heads·headDim]
    return { flat, split: op.Reshape(flat, op.Concat([batchSeq, g.ints([heads, headDim])], 0)) }; // split: [batch, seq, heads, headDim]
  };
  const query = project('query');
  // Scaling q by 1/√headDim before the product touches seq·headDim values per head instead of seq².
  const q = op.Transpose(op.Mul(query.split, 1 / Math.sqrt(headDim)), [0, 2, 1, 3]); // [batch, heads, seq, headDim]
  const key = project('key');
  const k = op.Transpose(key.split, [0, 2, 3, 1]); // [batch, heads, headDim, seq]
  const value = project('value');
  const v = op.Transpose(value.split, [0, 2, 1, 3]); // [batch, heads, seq, headDim]
  const scores = op.Add(op.MatMul(q, k), mask); // [batch, heads, seq, seq]
  const probs = op.Softmax(scores, { axis: -1 });
  const attended = dropoutWhenTraining(g, probs, c.attentionProbsDropoutProb, options);
  const perHead = op.MatMul(attended, v); // [batch, heads, seq, headDim]
  const masked = options.unitMasks ? maskHeads(g, perHead, g.param('head_mask', [heads])) : perHead;
  const context = op.Transpose(masked, [0, 2, 1, 3]); // [batch, seq, heads, headDim]
  const projections = { query: query.flat, key: key.flat, value: value.flat };
  return { context: op.Reshape(context, [-1, shape.attentionSize]), probs, projections }; // context: [batch*seq, heads·headDim]
}

function layer(g: GraphBuilder, c: EncoderConfig, i: number, x: Value, mask: Value, batchSeq: Value, options: EncoderOptions): { hidden: Value; attended: Value; probs: Value; projections: AttentionProjections } {
  const shape = layerShape(c, i);
  return g.scope(`layer.${i}`, () => {
    const { op } = g;
    const { context, probs, projections } = g.scope('attention.self', () => selfAttention(g, c, shape, x, mask, batchSeq, options));
    const attended = g.scope('attention.output', () => {
      const projected = dropoutWhenTraining(g, linear(g, 'dense', context, shape.attentionSize, c.hiddenSize), c.hiddenDropoutProb, options);
      return layerNorm(g, 'LayerNorm', op.Add(projected, x), c.hiddenSize, c.layerNormEps);
    });
    const inner = g.scope('intermediate', () => {
      const activation = gelu(g, linear(g, 'dense', attended, c.hiddenSize, shape.intermediateSize));
      return options.unitMasks ? maskNeurons(g, activation, g.param('neuron_mask', [shape.intermediateSize])) : activation;
    });
    const hidden = g.scope('output', () => {
      const projected = dropoutWhenTraining(g, linear(g, 'dense', inner, shape.intermediateSize, c.hiddenSize), c.hiddenDropoutProb, options);
      return layerNorm(g, 'LayerNorm', op.Add(projected, attended), c.hiddenSize, c.layerNormEps);
    });
    return { hidden, attended, probs, projections };
  });
}

/** Everything the encoder computes that a caller may want out of the graph. */
export interface EncoderStates {
  /** The last layer's hidden states, [batch*seq, hidden]. */
  readonly last: Value;
  /** The embeddings' output, then each layer's, [batch*seq, hidden] each (transformers' hidden_states). */
  readonly hiddenStates: readonly Value[];
  /** Each layer's attention block output (its LayerNorm's, what the FFN reads), [batch*seq, hidden] each. */
  readonly attentionOutputs: readonly Value[];
  /** Each layer's attention probabilities before dropout, [batch, heads kept, seq, seq]. */
  readonly attentions: readonly Value[];
  /** Each layer's query, key and value projections, [batch*seq, heads kept·headDim] each (MiniLMv2's relations). */
  readonly projections: readonly AttentionProjections[];
}

/** Runs the encoder; returns the last hidden states, [batch*seq, hidden]. */
export function encoder(g: GraphBuilder, c: EncoderConfig, inputs: EncoderInputs, options: EncoderOptions): Value {
  return encoderStates(g, c, inputs, options).last;
}

/** Runs the encoder and returns every layer's states, for distillation from a model's internals (adds no node). */
export function encoderStates(g: GraphBuilder, c: EncoderConfig, inputs: EncoderInputs, options: EncoderOptions): EncoderStates {
  const { op } = g;
  const batchSeq = op.Shape(inputs.inputIds); // [batch, seq] as a shape vector
  // Additive mask: 0 where attended, a large negative where padded. [batch, 1, 1, seq]
  const blocked = op.Mul(op.Sub(1, inputs.attentionMask), -1e9);
  const mask = op.Unsqueeze(blocked, [1, 2]);
  const hiddenStates = [embeddings(g, c, inputs, options)];
  const attentions: Value[] = [];
  const attentionOutputs: Value[] = [];
  const projections: AttentionProjections[] = [];
  g.scope('encoder', () => {
    for (let i = 0; i < c.numHiddenLayers; i++) {
      const out = layer(g, c, i, hiddenStates[i] as Value, mask, batchSeq, options);
      hiddenStates.push(out.hidden);
      attentionOutputs.push(out.attended);
      attentions.push(out.probs);
      projections.push(out.projections);
    }
  });
  return { last: hiddenStates[c.numHiddenLayers] as Value, hiddenStates, attentionOutputs, attentions, projections };
}

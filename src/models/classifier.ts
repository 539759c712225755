// A sequence classifier: the encoder, CLS pooling and a linear head, with softmax cross-entropy.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { EncoderConfig } from './config.ts';
import { dropoutWhenTraining, encoder, type EncoderOptions, linear } from './encoder.ts';

export interface ClassifierGraph {
  /** float [batch, numLabels] */
  readonly logits: Value;
  /** Mean cross-entropy over the batch (scalar). */
  readonly loss: Value;
}

/** The hidden state of each sequence's first token. [batch*seq, hidden] → [batch, hidden] */
export function clsPool(g: GraphBuilder, hidden: Value, batchSeq: Value, hiddenSize: number): Value {
  const { op } = g;
  const perSequence = op.Reshape(hidden, op.Concat([batchSeq, g.ints([hiddenSize])], 0)); // [batch, seq, hidden]
  return op.Squeeze(op.Slice(perSequence, [0], [1], [1]), [1]); // [batch, hidden]
}

/** Mean over the batch of −log softmax(logits)[label]. labels: int64 [batch] */
export function softmaxCrossEntropy(g: GraphBuilder, logits: Value, labels: Value): Value {
  const { op } = g;
  const logProbs = op.LogSoftmax(logits, { axis: -1 });
  const picked = op.GatherElements(logProbs, op.Unsqueeze(labels, [1]), 1); // [batch, 1]
  return op.Neg(op.ReduceMean(picked, undefined, { keepdims: false }));
}

export function sequenceClassifier(g: GraphBuilder, c: EncoderConfig, numLabels: number, options: EncoderOptions): ClassifierGraph {
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const inputs = {
    inputIds,
    positionIds: g.input('position_ids', 'int64', ['batch', 'seq']),
    tokenTypeIds: g.input('token_type_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'float32', ['batch', 'seq']),
  };
  const labels = g.input('labels', 'int64', ['batch']);
  const hidden = encoder(g, c, inputs, options);
  const pooled = dropoutWhenTraining(g, clsPool(g, hidden, g.op.Shape(inputIds), c.hiddenSize), c.hiddenDropoutProb, options);
  const logits = linear(g, 'classifier', pooled, c.hiddenSize, numLabels);
  return { logits, loss: softmaxCrossEntropy(g, logits, labels) };
}

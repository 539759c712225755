// Task heads and their losses: multiclass softmax cross-entropy, multilabel sigmoid binary cross-entropy.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';

export type TaskType = 'multiclass' | 'multilabel';

export interface TaskHead {
  readonly name: string;
  readonly type: TaskType;
  readonly labels: readonly string[];
}

/** Task names become parameter and input names, so they are restricted to a safe alphabet. */
export const TASK_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** −log softmax(logits)[label] per example. logits [batch, L], labels int64 [batch] → [batch] */
export function softmaxCrossEntropyPerExample(g: GraphBuilder, logits: Value, labels: Value): Value {
  const { op } = g;
  const logProbs = op.LogSoftmax(logits, { axis: -1 });
  const picked = op.GatherElements(logProbs, op.Unsqueeze(labels, [1]), 1); // [batch, 1]
  return op.Neg(op.Squeeze(picked, [1]));
}

/**
 * Σ over labels of binary cross-entropy with logits, per example, in the overflow-free form
 * max(z, 0) − z·y + log(1 + exp(−|z|)). logits, targets [batch, L] → [batch]
 */
export function sigmoidCrossEntropyPerExample(g: GraphBuilder, logits: Value, targets: Value): Value {
  const { op } = g;
  const perLabel = op.Add(op.Sub(op.Relu(logits), op.Mul(logits, targets)), op.Log(op.Add(op.Exp(op.Neg(op.Abs(logits))), 1)));
  return op.ReduceSum(perLabel, [1], { keepdims: false });
}

// Task heads and their losses: the head styles (xlmt's linear head and transformers' two classification heads),
// multiclass softmax cross-entropy, multilabel sigmoid binary cross-entropy.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { HeadStyle } from '../model-dir/index.ts';

export type TaskType = 'multiclass' | 'multilabel';

/** The head transformers' *ForSequenceClassification class of a model type puts on its encoder. */
export function transformersHead(modelType: 'bert' | 'roberta' | 'xlm-roberta'): Exclude<HeadStyle, 'linear'> {
  return modelType === 'bert' ? 'bert' : 'roberta';
}

/** The layers a head is built from: a dense layer declaring its parameters under the current scope, and dropout. */
export interface HeadLayers {
  dense(name: string, x: Value, inFeatures: number, outFeatures: number): Value;
  dropout(x: Value): Value;
}

/**
 * Logits per task, [batch, labels], from the sentence vector [batch, hidden], through the head style's layers
 * (the styles are listed in model-dir/, which records the choice in xlmt.json). Parameter names are
 * transformers' under `heads.<task>`:
 * - `linear`: dropout, then one Linear per task, `heads.<task>.{weight,bias}` (xlmt's default);
 * - `bert`: BertForSequenceClassification's: the encoder's pooler (`pooler.dense`, then tanh; shared by every
 *   task, as BertModel has one), dropout, then one Linear per task;
 * - `roberta`: RobertaForSequenceClassification's (XLM-R's too), per task: dropout, `heads.<task>.dense`, tanh,
 *   dropout, `heads.<task>.out_proj`.
 * With CLS pooling and a single task, `bert` and `roberta` compute exactly what transformers' classes compute,
 * and such a model is saved under their `classifier.*` names.
 */
export function taskLogits(g: GraphBuilder, style: HeadStyle, sentence: Value, hidden: number, tasks: readonly TaskHead[], layers: HeadLayers): Map<string, Value> {
  const { op } = g;
  const pooled = style === 'bert' ? op.Tanh(g.scope('pooler', () => layers.dense('dense', sentence, hidden, hidden))) : sentence;
  const input = layers.dropout(pooled);
  const logits = new Map<string, Value>();
  for (const task of tasks) {
    const labels = task.labels.length;
    logits.set(task.name, g.scope('heads', () => {
      if (style !== 'roberta') return layers.dense(task.name, input, hidden, labels);
      return g.scope(task.name, () => layers.dense('out_proj', layers.dropout(op.Tanh(layers.dense('dense', input, hidden, hidden))), hidden, labels));
    }));
  }
  return logits;
}

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
 * Cross-entropy against a target distribution, −Σ_k target_k · log softmax(logits)_k, per example: a one-hot
 * target gives −log softmax(logits)[label], a teacher's probabilities give the distillation loss.
 * logits, targets [batch, L] → [batch]
 */
export function softTargetCrossEntropyPerExample(g: GraphBuilder, logits: Value, targets: Value): Value {
  const { op } = g;
  return op.Neg(op.ReduceSum(op.Mul(op.LogSoftmax(logits, { axis: -1 }), targets), [1], { keepdims: false }));
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

// The cross-lingual multi-task classifier: one shared encoder, a pooled sentence vector, one head per task,
// and the multi-task loss of Campos et al. (2022), Eq. 1.
import { preview, XlmtError } from '../errors/index.ts';
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { HeadStyle } from '../model-dir/index.ts';
import type { EncoderConfig } from './config.ts';
import { dropoutWhenTraining, type EncoderInputs, encoderStates, type EncoderStates, linear } from './encoder.ts';
import { sigmoidCrossEntropyPerExample, softTargetCrossEntropyPerExample, TASK_NAME, type TaskHead, taskLogits } from './heads.ts';

export type Pooling = 'cls' | 'mean';

export interface MultiTaskOptions {
  readonly training: boolean;
  /** Mask parameters over every layer's heads and FFN neurons, for their importance (see unit-masks.ts). */
  readonly unitMasks?: boolean;
  /** Sentence vector: the first token's hidden state (BERT's [CLS], XLM-R's <s>) or the mean over tokens. */
  readonly pooling: Pooling;
  /** What each task puts on the sentence vector (see taskLogits in heads.ts). */
  readonly headStyle: HeadStyle;
  /** Encoder inputs made by the caller (an inference graph computes positions in-graph); default: graph inputs. */
  readonly inputs?: EncoderInputs;
}


/** Graph input names for a task's labels: `labels:<task>` and `label_mask:<task>`. */
export const labelInput = (task: string): string => `labels:${task}`;
export const labelMaskInput = (task: string): string => `label_mask:${task}`;

export function encoderInputs(g: GraphBuilder): EncoderInputs {
  return {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    positionIds: g.input('position_ids', 'int64', ['batch', 'seq']),
    tokenTypeIds: g.input('token_type_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'float32', ['batch', 'seq']),
  };
}

/** The sentence vector: [batch*seq, hidden] → [batch, hidden] */
export function pool(g: GraphBuilder, hidden: Value, inputs: EncoderInputs, hiddenSize: number, pooling: Pooling): Value {
  const { op } = g;
  const perSequence = op.Reshape(hidden, op.Concat([op.Shape(inputs.inputIds), g.ints([hiddenSize])], 0)); // [batch, seq, hidden]
  if (pooling === 'cls') return op.Squeeze(op.Slice(perSequence, [0], [1], [1]), [1]);
  const mask = op.Unsqueeze(inputs.attentionMask, [2]); // [batch, seq, 1]
  const summed = op.ReduceSum(op.Mul(perSequence, mask), [1], { keepdims: false }); // [batch, hidden]
  return op.Div(summed, op.Max(op.ReduceSum(mask, [1], { keepdims: false }), g.scalar(1, 'float32')));
}

/** Builds the model: logits per task, [batch, labels], keyed by task name. */
export function multiTaskClassifier(g: GraphBuilder, c: EncoderConfig, tasks: readonly TaskHead[], options: MultiTaskOptions): ReadonlyMap<string, Value> {
  return multiTaskForward(g, c, tasks, options).logits;
}

/** The classifier's forward pass with what a distillation loss reads beside the logits: the encoder's inputs and states. */
export interface MultiTaskForward {
  readonly logits: ReadonlyMap<string, Value>;
  readonly inputs: EncoderInputs;
  readonly states: EncoderStates;
}

/** multiTaskClassifier, keeping the encoder's inputs and every layer's states (the same nodes: it adds none). */
export function multiTaskForward(g: GraphBuilder, c: EncoderConfig, tasks: readonly TaskHead[], options: MultiTaskOptions): MultiTaskForward {
  if (tasks.length === 0) throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'no task to classify', where: { api: 'multiTaskClassifier' }, expected: 'at least one task' });
  for (const t of tasks) {
    if (!TASK_NAME.test(t.name)) {
      throw new XlmtError({
        code: 'BAD_ARGUMENT',
        message: `task name ${preview(t.name)} cannot name parameters and inputs`,
        where: { api: 'multiTaskClassifier', task: t.name },
        expected: `a name matching ${TASK_NAME}`,
      });
    }
  }
  const inputs = options.inputs ?? encoderInputs(g);
  const states = encoderStates(g, c, inputs, options);
  const logits = taskLogits(g, options.headStyle, pool(g, states.last, inputs, c.hiddenSize, options.pooling), c.hiddenSize, tasks, {
    dense: (name, x, inFeatures, outFeatures) => linear(g, name, x, inFeatures, outFeatures),
    dropout: (x) => dropoutWhenTraining(g, x, c.hiddenDropoutProb, options),
  });
  return { logits, inputs, states };
}

/**
 * The multi-task loss, Eq. 1 of Campos et al. (2022). Each task takes `labels:<task>`, float [batch, L] targets
 * (multiclass: a one-hot row for a gold label, a teacher's distribution for a soft one; multilabel: 0/1 per label,
 * or a teacher's probabilities), and `label_mask:<task>` (float [batch], 1 where the example is labeled for the
 * task):
 *   L = (1/N) Σ_examples Σ_tasks labeled CE_task(example),
 * N being the number of examples in the batch labeled for at least one task. An example contributes only to the
 * tasks it is labeled for, and a batch's loss does not depend on how many tasks it happens to contain.
 */
export function multiTaskLoss(g: GraphBuilder, tasks: readonly TaskHead[], logits: ReadonlyMap<string, Value>): Value {
  const { op } = g;
  const terms: Value[] = [];
  const masks: Value[] = [];
  for (const task of tasks) {
    const taskLogits = logits.get(task.name);
    if (!taskLogits) throw new Error(`no logits for task ${task.name}`);
    const mask = g.input(labelMaskInput(task.name), 'float32', ['batch']);
    const targets = g.input(labelInput(task.name), 'float32', ['batch', task.labels.length]);
    const perExample = task.type === 'multiclass'
      ? softTargetCrossEntropyPerExample(g, taskLogits, targets)
      : sigmoidCrossEntropyPerExample(g, taskLogits, targets);
    terms.push(op.ReduceSum(op.Mul(perExample, mask), undefined, { keepdims: false }));
    masks.push(mask);
  }
  const labeled = masks.length === 1 ? (masks[0] as Value) : op.Max(...masks); // 1 where labeled for any task
  const n = op.Max(op.ReduceSum(labeled, undefined, { keepdims: false }), g.scalar(1, 'float32'));
  const total = terms.length === 1 ? (terms[0] as Value) : op.Sum(...terms);
  return op.Div(total, n);
}

// The inference graph of a trained multi-task classifier, in the contract of infer/contract.ts.
import { XlmtError } from '../errors/index.ts';
import { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { EncoderConfig } from '../models/config.ts';
import type { HeadStyle } from '../model-dir/index.ts';
import type { TaskHead } from '../models/heads.ts';
import { multiTaskClassifier, type Pooling } from '../models/multitask.ts';
import type { Positions } from '../train/feeds.ts';
import { ATTENTION_MASK, INPUT_IDS, LOGITS, probsOutput } from '../infer/contract.ts';

export interface InferenceGraphOptions {
  readonly pooling: Pooling;
  readonly headStyle: HeadStyle;
  readonly positions: Positions;
  readonly name?: string;
}

/** Position ids from the mask, as Hugging Face computes them for right-padded rows (see tokenize/positions.ts). */
export function positionIdsInGraph(g: GraphBuilder, inputIds: Value, mask: Value, positions: Positions): Value {
  const { op } = g;
  if (positions.convention === 'bert') return op.Sub(op.CumSum(op.Add(op.Mul(inputIds, 0), 1), 1), 1); // 0..seq-1
  return op.Add(op.Mul(op.CumSum(mask, 1), mask), positions.paddingIdx);
}

/** Adds `probs:<task>` outputs (and `logits` for a single task) to a graph holding per-task logits. */
export function addTaskOutputs(g: GraphBuilder, tasks: readonly TaskHead[], logits: ReadonlyMap<string, Value>): void {
  for (const task of tasks) {
    const z = logits.get(task.name);
    if (!z) throw new XlmtError({ code: 'INTERNAL', where: { api: 'addTaskOutputs', task: task.name }, message: 'the graph computes no logits for this task' });
    g.output(probsOutput(task.name), task.type === 'multiclass' ? g.op.Softmax(z, { axis: -1 }) : g.op.Sigmoid(z));
    if (tasks.length === 1) g.output(LOGITS, g.op.Identity(z));
  }
}

/**
 * The reference inference graph: the training graph's forward pass (no dropout) with in-graph positions.
 * Parameters are graph parameters named as in Hugging Face; serialize with `params` to embed them.
 */
export function referenceInferenceGraph(config: EncoderConfig, tasks: readonly TaskHead[], options: InferenceGraphOptions): Graph {
  const g = new GraphBuilder(options.name ?? 'xlmt-classifier');
  const inputIds = g.input(INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const logits = multiTaskClassifier(g, config, tasks, {
    training: false,
    pooling: options.pooling,
    headStyle: options.headStyle,
    inputs: {
      inputIds,
      positionIds: positionIdsInGraph(g, inputIds, mask, options.positions),
      tokenTypeIds: g.op.Mul(inputIds, 0),
      attentionMask: g.op.Cast(mask, 'float32'),
    },
  });
  addTaskOutputs(g, tasks, logits);
  return g.build();
}

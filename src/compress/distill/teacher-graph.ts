// The inference graph of a trained model serving as a teacher: the reference inference graph's forward pass (fed like
// an export: input_ids and attention_mask, positions computed in the graph), with per-task logits instead of
// probabilities, and every layer's hidden states, attention block outputs and attention projections as outputs for
// intermediate transfer and for pruning's activation statistics.
import { GraphBuilder } from '../../builder/builder.ts';
import { positionIdsInGraph, type InferenceGraphOptions } from '../../export/graph.ts';
import { ATTENTION_MASK, INPUT_IDS } from '../../infer/contract.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import type { EncoderConfig } from '../../models/config.ts';
import { encoderStates, type EncoderInputs, linear } from '../../models/encoder.ts';
import { taskLogits, type TaskHead } from '../../models/heads.ts';
import { pool } from '../../models/multitask.ts';
import type { AttentionRelation } from './names.ts';

export const logitsOutput = (task: string): string => `logits:${task}`;
/** After layer `layer`, 0 being the embeddings: [batch*seq, hidden]. */
export const hiddenOutput = (layer: number): string => `hidden:${layer}`;
/** Layer `layer`'s (0-based) attention block output, the FFN's input: [batch*seq, hidden]. */
export const attentionOutput = (layer: number): string => `attended:${layer}`;
/** Layer `layer`'s (0-based) query, key or value projection: [batch*seq, heads kept·headDim]. */
export const projectionOutput = (relation: AttentionRelation, layer: number): string => `${relation}:${layer}`;

/**
 * Built from encoderStates, pooling and taskLogits as multiTaskClassifier composes them (parameter names are the
 * same, so a model directory's parameters feed it as they are); no dropout.
 */
export function teacherGraph(config: EncoderConfig, tasks: readonly TaskHead[], options: InferenceGraphOptions): Graph {
  const g = new GraphBuilder(options.name ?? 'xlmt-teacher');
  const inputIds = g.input(INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const inputs: EncoderInputs = {
    inputIds,
    positionIds: positionIdsInGraph(g, inputIds, mask, options.positions),
    tokenTypeIds: g.op.Mul(inputIds, 0),
    attentionMask: g.op.Cast(mask, 'float32'),
  };
  const states = encoderStates(g, config, inputs, { training: false });
  const sentence = pool(g, states.last, inputs, config.hiddenSize, options.pooling); // [batch, hidden]
  const logits = taskLogits(g, options.headStyle, sentence, config.hiddenSize, tasks, {
    dense: (name, x, inFeatures, outFeatures) => linear(g, name, x, inFeatures, outFeatures),
    dropout: (x) => x,
  });
  for (const task of tasks) g.output(logitsOutput(task.name), logits.get(task.name) as Value);
  states.hiddenStates.forEach((hidden, layer) => g.output(hiddenOutput(layer), hidden));
  states.attentionOutputs.forEach((attended, layer) => g.output(attentionOutput(layer), attended));
  states.projections.forEach((p, layer) => {
    g.output(projectionOutput('query', layer), p.query);
    g.output(projectionOutput('key', layer), p.key);
    g.output(projectionOutput('value', layer), p.value);
  });
  return g.build();
}

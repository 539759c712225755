// The masked-LM objective's graphs: the encoder with its masked-LM head, returning the mean loss over masked tokens
// and how many of them the model ranks first; with dropout for training, without it for the held-out evaluation.
import { trainingGraph, type TrainingGraph } from '../autodiff/training-graph.ts';
import { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { EncoderConfig } from '../models/config.ts';
import { encoder } from '../models/encoder.ts';
import { MLM_LABELS, maskedLm } from '../models/mlm.ts';
import { encoderInputs } from '../models/multitask.ts';

/** Graph output: how many masked tokens the model ranks first (float32 scalar), for masked-token accuracy. */
export const MLM_CORRECT = 'mlm_correct';

export interface MlmGraphs {
  readonly training: TrainingGraph;
  /** The same model without dropout, returning `loss` and `mlm_correct`. */
  readonly evaluation: Graph;
}

export function mlmGraphs(c: EncoderConfig): MlmGraphs {
  const g = new GraphBuilder('pretrain');
  const { loss, correct } = mlmGraph(g, c, true);
  const training = trainingGraph(g, { loss, outputs: { [MLM_CORRECT]: correct } });
  const e = new GraphBuilder('pretrain-eval');
  const evaluated = mlmGraph(e, c, false);
  e.output('loss', evaluated.loss);
  e.output(MLM_CORRECT, evaluated.correct);
  return { training, evaluation: e.build() };
}

function mlmGraph(g: GraphBuilder, c: EncoderConfig, training: boolean): { loss: Value; correct: Value } {
  const { op } = g;
  const hidden = encoder(g, c, encoderInputs(g), { training });
  const { loss, logits } = maskedLm(g, c, hidden); // logits: [masked, vocab]
  const labels = g.build().inputs.find((v) => v.name === MLM_LABELS); // [masked]
  if (!labels) throw new Error('masked-LM graph: no mlm_labels input; models/mlm.ts changed its graph');
  const target = op.Squeeze(op.GatherElements(logits, op.Unsqueeze(labels, [1]), 1), [1]); // [masked]
  const best = op.ReduceMax(logits, [1], { keepdims: false }); // [masked]
  const correct = op.ReduceSum(op.Cast(op.GreaterOrEqual(target, best), 'float32'), undefined, { keepdims: false });
  return { loss, correct };
}

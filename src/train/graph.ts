// The training graph of multi-task classification: the encoder (with character n-gram inputs when the run has
// them), one head per task and the masked multi-task loss. An objective with another loss, such as a teacher's
// term beside the gold labels, builds its graph from the same logits (classifierLogits) and passes it to setupRun.
import { trainingGraph, type TrainingGraph } from '../autodiff/training-graph.ts';
import { GraphBuilder } from '../builder/builder.ts';
import type { HfModelConfig } from '../checkpoint/index.ts';
import type { Task } from '../data/index.ts';
import type { Value } from '../ir/graph.ts';
import { charNgramInputs, type CharNgramTable } from '../models/char-ngrams.ts';
import { encoderInputs, type MultiTaskForward, multiTaskForward, multiTaskLoss } from '../models/multitask.ts';
import type { TrainConfig } from './config.ts';
import { trainableParams } from './trainable.ts';

/** What a classifier's training graph is built from. */
export interface ClassifierParts {
  readonly hf: HfModelConfig;
  readonly tasks: readonly Task[];
  readonly config: Pick<TrainConfig, 'pooling' | 'headStyle'>;
  /** The n-gram table whose rows the graph's n-gram inputs index; null without character n-grams. */
  readonly charNgrams: CharNgramTable | null;
  /** Globs of the parameters to train (train/trainable.ts); undefined: all of them. */
  readonly trainable?: readonly string[];
}

/** Builds the training graph of a run (its loss over the logits of every task). */
export type ClassifierGraph = (parts: ClassifierParts) => TrainingGraph;

/** The encoder's inputs and the per-task logits, with dropout: the forward half of every classifier objective. */
export function classifierLogits(g: GraphBuilder, parts: ClassifierParts): ReadonlyMap<string, Value> {
  return classifierForward(g, parts).logits;
}

/** classifierLogits with the encoder's inputs and every layer's states, for a loss on the student's internals. */
export function classifierForward(g: GraphBuilder, parts: ClassifierParts): MultiTaskForward {
  const { hf, tasks, config, charNgrams } = parts;
  const inputs = { ...encoderInputs(g), ...(charNgrams ? { charNgrams: charNgramInputs(g, charNgrams) } : {}) };
  return multiTaskForward(g, hf.encoder, tasks, { training: true, pooling: config.pooling, headStyle: config.headStyle, inputs });
}

/** Cross-entropy on gold labels or a teacher file's soft targets, masked per task (models/multitask.ts). */
export const classificationGraph: ClassifierGraph = (parts) => {
  const g = new GraphBuilder('train');
  const logits = classifierLogits(g, parts);
  return trainingGraph(g, { loss: multiTaskLoss(g, parts.tasks, logits), params: trainableParams(g, parts.trainable) });
};

// The training graph of multi-task classification: the encoder (with character n-gram inputs when the run has
// them), one head per task and the masked multi-task loss. An objective with another loss, such as a teacher's
// term beside the gold labels, builds its graph from the same logits (classifierLogits) and passes it to setupRun.
// An objective builds the forward half only (loss, extra outputs, what to differentiate): setupRun runs the graph
// passes that must come before autodiff (quantization-aware training) and differentiates it once (differentiate.ts).
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

/** A run's forward graph and loss, not yet differentiated. */
export interface ClassifierForward {
  readonly g: GraphBuilder;
  readonly loss: Value;
  /** Forward values the training graph returns beside the loss, by output name (an objective's separate terms). */
  readonly outputs?: Readonly<Record<string, Value>>;
  /**
   * The parameters to differentiate, by name, in this order: names survive a graph pass that copies the graph into
   * a new builder, where the Values do not.
   */
  readonly params: readonly string[];
}

/** Builds the forward half of a run's training graph (its loss over the logits of every task). */
export type ClassifierGraph = (parts: ClassifierParts) => ClassifierForward;

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
  const loss = multiTaskLoss(g, parts.tasks, logits);
  return { g, loss, params: trainableParams(g, parts.trainable).map((v) => v.name) };
};

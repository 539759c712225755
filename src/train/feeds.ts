// One batch's graph inputs: token tensors padded to the batch's longest example, labels and label masks per task.
import type { LabelValue, Task } from '../data/index.ts';
import type { TensorData } from '../ir/tensor.ts';
import { charNgramFeeds, type CharNgramTable } from '../models/char-ngrams.ts';
import { labelInput, labelMaskInput } from '../models/multitask.ts';
import type { Feeds } from '../runtime/session.ts';
import { positionIds } from '../tokenize/index.ts';
import type { EncodedExamples } from './examples.ts';

/** How position ids are numbered: BERT from 0, RoBERTa/XLM-R from padding_idx + 1 with pads at padding_idx. */
export type Positions = { readonly convention: 'bert' } | { readonly convention: 'roberta'; readonly paddingIdx: number };

export interface TokenBatchOptions {
  readonly padId: number;
  readonly positions: Positions;
  /** Training with character n-grams: their inputs are cut from this table. */
  readonly charNgrams?: CharNgramTable | null;
}

/** input_ids, position_ids, token_type_ids and attention_mask for the given examples. */
export function tokenFeeds(encoded: EncodedExamples, indices: readonly number[], o: TokenBatchOptions): Record<string, TensorData> {
  const batch = indices.length;
  const seq = Math.max(1, ...indices.map((i) => (encoded.ids[i] as Int32Array).length));
  const inputIds = new BigInt64Array(batch * seq).fill(BigInt(o.padId));
  const attentionMask = new Float32Array(batch * seq);
  indices.forEach((example, b) => {
    const ids = encoded.ids[example] as Int32Array;
    for (let t = 0; t < ids.length; t++) {
      inputIds[b * seq + t] = BigInt(ids[t] as number);
      attentionMask[b * seq + t] = 1;
    }
  });
  const positions = positionIds({ batch, seq, inputIds }, o.positions);
  return {
    ...(o.charNgrams ? charNgramFeeds(o.charNgrams, inputIds, batch, seq) : {}),
    input_ids: { dtype: 'int64', shape: [batch, seq], data: inputIds },
    position_ids: { dtype: 'int64', shape: [batch, seq], data: positions },
    token_type_ids: { dtype: 'int64', shape: [batch, seq], data: new BigInt64Array(batch * seq) },
    attention_mask: { dtype: 'float32', shape: [batch, seq], data: attentionMask },
  };
}

/** What a training row holds for the loss: gold labels (an example's) and, from a teacher, soft targets. */
export interface TrainingTargets {
  readonly labels: ReadonlyMap<string, LabelValue>;
  /** Per task, the teacher's probability per label (see teacher.ts); a gold label of the same task wins. */
  readonly soft?: ReadonlyMap<string, Float32Array>;
}

/**
 * Targets and label masks of every task, [batch, labels] floats: one-hot (multiclass) or 0/1 (multilabel) rows
 * for gold labels, the teacher's probabilities for soft ones. A row with neither for a task gets mask 0.
 */
export function labelFeeds(rows: readonly TrainingTargets[], indices: readonly number[], tasks: readonly Task[]): Record<string, TensorData> {
  const batch = indices.length;
  const feeds: Record<string, TensorData> = {};
  for (const task of tasks) {
    const mask = new Float32Array(batch);
    const width = task.labels.length;
    const targets = new Float32Array(batch * width);
    indices.forEach((index, b) => {
      const row = rows[index] as TrainingTargets;
      const label = row.labels.get(task.name);
      const soft = row.soft?.get(task.name);
      if (label !== undefined) {
        for (const l of typeof label === 'number' ? [label] : label) targets[b * width + l] = 1;
      } else if (soft !== undefined) {
        targets.set(soft, b * width);
      } else {
        return;
      }
      mask[b] = 1;
    });
    feeds[labelInput(task.name)] = { dtype: 'float32', shape: [batch, width], data: targets };
    feeds[labelMaskInput(task.name)] = { dtype: 'float32', shape: [batch], data: mask };
  }
  return feeds;
}

export function trainingFeeds(rows: readonly TrainingTargets[], encoded: EncodedExamples, indices: readonly number[], tasks: readonly Task[], o: TokenBatchOptions): Feeds {
  return { ...tokenFeeds(encoded, indices, o), ...labelFeeds(rows, indices, tasks) };
}

// One batch's graph inputs: token tensors padded to the batch's longest example, labels and label masks per task.
import type { Example, Task } from '../data/index.ts';
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

/** Labels and label masks of every task: an example not labeled for a task gets mask 0 (and a dummy label). */
export function labelFeeds(examples: readonly Example[], indices: readonly number[], tasks: readonly Task[]): Record<string, TensorData> {
  const batch = indices.length;
  const feeds: Record<string, TensorData> = {};
  for (const task of tasks) {
    const mask = new Float32Array(batch);
    const width = task.labels.length;
    const classes = new BigInt64Array(batch);
    const targets = new Float32Array(batch * width);
    indices.forEach((example, b) => {
      const label = (examples[example] as Example).labels.get(task.name);
      if (label === undefined) return;
      mask[b] = 1;
      if (typeof label === 'number') classes[b] = BigInt(label);
      else for (const l of label) targets[b * width + l] = 1;
    });
    feeds[labelInput(task.name)] = task.type === 'multiclass'
      ? { dtype: 'int64', shape: [batch], data: classes }
      : { dtype: 'float32', shape: [batch, width], data: targets };
    feeds[labelMaskInput(task.name)] = { dtype: 'float32', shape: [batch], data: mask };
  }
  return feeds;
}

export function trainingFeeds(examples: readonly Example[], encoded: EncodedExamples, indices: readonly number[], tasks: readonly Task[], o: TokenBatchOptions): Feeds {
  return { ...tokenFeeds(encoded, indices, o), ...labelFeeds(examples, indices, tasks) };
}

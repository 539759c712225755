// Synthetic batches for benchmarks and tests: random token ids, BERT position ids, full attention, random labels.
import type { EncoderConfig } from '../models/config.ts';
import type { TaskHead } from '../models/heads.ts';
import { labelInput, labelMaskInput } from '../models/multitask.ts';
import type { Feeds } from '../runtime/session.ts';
import type { TensorData } from '../ir/tensor.ts';
import type { Random } from '../util/random.ts';

/** Token inputs of a batch with random ids; every example labeled for every task. */
export function syntheticBatch(c: EncoderConfig, batch: number, seq: number, tasks: readonly TaskHead[], random: Random): Feeds {
  const n = batch * seq;
  const ids = new BigInt64Array(n);
  const positions = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(random.int(c.vocabSize));
    positions[i] = BigInt(i % seq);
  }
  const feeds: Record<string, TensorData> = {
    input_ids: { dtype: 'int64', shape: [batch, seq], data: ids },
    position_ids: { dtype: 'int64', shape: [batch, seq], data: positions },
    token_type_ids: { dtype: 'int64', shape: [batch, seq], data: new BigInt64Array(n) },
    attention_mask: { dtype: 'float32', shape: [batch, seq], data: new Float32Array(n).fill(1) },
  };
  for (const task of tasks) {
    const count = task.labels.length;
    const targets = new Float32Array(batch * count); // multiclass: one-hot rows; multilabel: 0/1 per label
    if (task.type === 'multiclass') for (let b = 0; b < batch; b++) targets[b * count + random.int(count)] = 1;
    else for (let i = 0; i < targets.length; i++) targets[i] = random.next() < 0.2 ? 1 : 0;
    feeds[labelInput(task.name)] = { dtype: 'float32', shape: [batch, count], data: targets };
    feeds[labelMaskInput(task.name)] = { dtype: 'float32', shape: [batch], data: new Float32Array(batch).fill(1) };
  }
  return feeds;
}

/** A multiclass task with `count` labels named 0…count−1, for benchmarks and tests. */
export function syntheticTask(name: string, count: number): TaskHead {
  return { name, type: 'multiclass', labels: Array.from({ length: count }, (_, i) => String(i)) };
}

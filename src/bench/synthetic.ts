// Synthetic batches for benchmarks and tests: random token ids, BERT position ids, full attention.
import type { Feeds } from '../runtime/session.ts';
import type { EncoderConfig } from '../models/config.ts';
import type { Random } from '../util/random.ts';

export function syntheticBatch(c: EncoderConfig, batch: number, seq: number, numLabels: number, random: Random): Feeds {
  const n = batch * seq;
  const ids = new BigInt64Array(n);
  const positions = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(random.int(c.vocabSize));
    positions[i] = BigInt(i % seq);
  }
  const labels = new BigInt64Array(batch);
  for (let b = 0; b < batch; b++) labels[b] = BigInt(random.int(numLabels));
  return {
    input_ids: { dtype: 'int64', shape: [batch, seq], data: ids },
    position_ids: { dtype: 'int64', shape: [batch, seq], data: positions },
    token_type_ids: { dtype: 'int64', shape: [batch, seq], data: new BigInt64Array(n) },
    attention_mask: { dtype: 'float32', shape: [batch, seq], data: new Float32Array(n).fill(1) },
    labels: { dtype: 'int64', shape: [batch], data: labels },
  };
}

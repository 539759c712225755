// The masked-LM head: tied decoder, gradients reach the word embeddings densely, and it learns a predictable corpus.
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/training-graph.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { MLM_LABELS, MLM_POSITIONS, maskedLm } from '../../src/models/mlm.ts';
import { encoderInputs } from '../../src/models/multitask.ts';
import { AdamW, constantSchedule } from '../../src/optim/index.ts';
import { TrainingSession } from '../../src/runtime/training-session.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { Random } from '../../src/util/random.ts';

const MASK = 1;
const config = encoderConfig({
  vocabSize: 20, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
  maxPositionEmbeddings: 12, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
});

/** Sequences counting up from a random start (ids 2…19, wrapping): every masked id follows from its neighbours. */
function batch(random: Random, size: number, seq: number) {
  const ids = new BigInt64Array(size * seq);
  const positions = new BigInt64Array(size * seq);
  const masked: number[] = [];
  const labels: number[] = [];
  for (let b = 0; b < size; b++) {
    const start = random.int(18);
    for (let t = 0; t < seq; t++) {
      const i = b * seq + t;
      ids[i] = BigInt(2 + ((start + t) % 18));
      positions[i] = BigInt(t);
    }
    const t = random.int(seq);
    masked.push(b * seq + t);
    labels.push(Number(ids[b * seq + t]));
    ids[b * seq + t] = BigInt(MASK);
  }
  return {
    input_ids: { dtype: 'int64' as const, shape: [size, seq], data: ids },
    position_ids: { dtype: 'int64' as const, shape: [size, seq], data: positions },
    token_type_ids: { dtype: 'int64' as const, shape: [size, seq], data: new BigInt64Array(size * seq) },
    attention_mask: { dtype: 'float32' as const, shape: [size, seq], data: new Float32Array(size * seq).fill(1) },
    [MLM_POSITIONS]: { dtype: 'int64' as const, shape: [masked.length], data: BigInt64Array.from(masked.map(BigInt)) },
    [MLM_LABELS]: { dtype: 'int64' as const, shape: [labels.length], data: BigInt64Array.from(labels.map(BigInt)) },
  };
}

describe('masked-LM head', () => {
  it('ties the decoder to the word embeddings and learns a predictable corpus', async () => {
    const g = new GraphBuilder('mlm');
    const hidden = encoder(g, config, encoderInputs(g), { training: true });
    const training = trainingGraph(g, { loss: maskedLm(g, config, hidden).loss });
    expect(training.graph.params.map((p) => p.name).filter((n) => n.startsWith('cls.'))).toEqual([
      'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.bias',
    ]);
    // Used by the decoder too, the table's gradient is dense.
    expect(training.gradients.get('embeddings.word_embeddings.weight')?.kind).toBe('dense');

    const session = await TrainingSession.create(training, { threads: 1 });
    const trainer = new Trainer(session, initParams(training.graph, 1), { optimizer: new AdamW(), schedule: constantSchedule(3e-3) });
    const random = new Random(1);
    const losses: number[] = [];
    for (let i = 0; i < 400; i++) losses.push((await trainer.step(batch(random, 16, 8))).loss);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(0, 5))).toBeGreaterThan(2.5); // ≈ ln 20 at the start
    expect(mean(losses.slice(-10))).toBeLessThan(1.5);
  });
});

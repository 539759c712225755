// Proof that the engine trains: a tiny transformer classifier learns a synthetic task within seconds.
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/training-graph.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import type { Value } from '../../src/ir/graph.ts';
import { labelInput, labelMaskInput, multiTaskClassifier, multiTaskLoss } from '../../src/models/multitask.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { initParams } from '../../src/models/init.ts';
import { AdamW, linearSchedule } from '../../src/optim/index.ts';
import type { Feeds } from '../../src/runtime/session.ts';
import { TrainingSession } from '../../src/runtime/training-session.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { Random } from '../../src/util/random.ts';

const TASK = { name: 'marker', type: 'multiclass', labels: ['absent', 'present'] } as const;

const SEQ = 8;
const MARKER = 7n;

/** Label 1 when the marker token occurs anywhere after the first (CLS) position, else 0. Balanced classes. */
function batch(random: Random, size: number): { feeds: Feeds; labels: bigint[] } {
  const ids = new BigInt64Array(size * SEQ);
  const positions = new BigInt64Array(size * SEQ);
  const labels: bigint[] = [];
  for (let b = 0; b < size; b++) {
    const label = BigInt(random.int(2));
    for (let t = 0; t < SEQ; t++) {
      positions[b * SEQ + t] = BigInt(t);
      ids[b * SEQ + t] = t === 0 ? 1n : BigInt(8 + random.int(8)); // 1 = CLS; fillers never equal the marker
    }
    if (label === 1n) ids[b * SEQ + 1 + random.int(SEQ - 1)] = MARKER;
    labels.push(label);
  }
  return {
    labels,
    feeds: {
      input_ids: { dtype: 'int64', shape: [size, SEQ], data: ids },
      position_ids: { dtype: 'int64', shape: [size, SEQ], data: positions },
      token_type_ids: { dtype: 'int64', shape: [size, SEQ], data: new BigInt64Array(size * SEQ) },
      attention_mask: { dtype: 'float32', shape: [size, SEQ], data: new Float32Array(size * SEQ).fill(1) },
      [labelInput('marker')]: { dtype: 'float32', shape: [size, 2], data: Float32Array.from(labels.flatMap((l) => (l === 1n ? [0, 1] : [1, 0]))) },
      [labelMaskInput('marker')]: { dtype: 'float32', shape: [size], data: new Float32Array(size).fill(1) },
    },
  };
}

describe('training a tiny transformer classifier', () => {
  it('reaches a clearly lower loss and high accuracy', async () => {
    const config = encoderConfig({
      vocabSize: 16, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
      maxPositionEmbeddings: SEQ, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
    });
    const g = new GraphBuilder('tiny_classifier');
    const heads = multiTaskClassifier(g, config, [TASK], { training: true, pooling: 'cls', headStyle: 'linear' });
    const training = trainingGraph(g, { loss: multiTaskLoss(g, [TASK], heads), outputs: { logits: heads.get('marker') as Value } });
    expect(training.unreachable).toEqual([]);
    const session = await TrainingSession.create(training, { threads: 1 });
    const steps = 150;
    const trainer = new Trainer(session, initParams(training.graph, 1), {
      optimizer: new AdamW({ weightDecay: 0.01 }),
      schedule: linearSchedule({ lr: 3e-3, warmupSteps: 10, totalSteps: steps }),
      maxGradNorm: 1,
    });
    const random = new Random(3);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push((await trainer.step(batch(random, 32).feeds)).loss);

    const early = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const late = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(early).toBeGreaterThan(0.6);
    expect(late).toBeLessThan(0.1);

    const heldOut = batch(new Random(99), 256);
    const result = await session.step(heldOut.feeds, trainer.params);
    const logits = result.outputs.logits?.data as Float32Array;
    const correct = heldOut.labels.filter((label, b) => BigInt(Number(logits[2 * b + 1]! > logits[2 * b]!)) === label).length;
    expect(correct / heldOut.labels.length).toBeGreaterThan(0.95);
  });
});

// The multi-task loss is Eq. 1 of the paper: summed per-example cross-entropies of labeled tasks over N labeled examples.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import type { TaskHead } from '../../src/models/heads.ts';
import { initParams } from '../../src/models/init.ts';
import { labelInput, labelMaskInput, multiTaskClassifier, multiTaskLoss, type Pooling } from '../../src/models/multitask.ts';
import { Session } from '../../src/runtime/session.ts';
import { syntheticBatch } from '../../src/bench/synthetic.ts';
import { Random } from '../../src/util/random.ts';

const tasks: TaskHead[] = [
  { name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] },
  { name: 'emotion', type: 'multilabel', labels: ['anger', 'joy', 'fear', 'trust'] },
];
const config = encoderConfig({
  vocabSize: 30, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 8,
});

const logSoftmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
};
const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

async function lossAndLogits(pooling: Pooling, sentimentMask: number[], emotionMask: number[], sentimentTargets?: number[]): Promise<{ loss: number; expected: number }> {
  const g = new GraphBuilder('multitask');
  const logits = multiTaskClassifier(g, config, tasks, { training: false, pooling, headStyle: 'linear' });
  g.output('loss', multiTaskLoss(g, tasks, logits));
  for (const t of tasks) g.output(`logits:${t.name}`, logits.get(t.name) ?? g.scalar(0, 'float32'));
  const session = await Session.create(g.build(), { threads: 1 });
  const batch = 5;
  const feeds = {
    ...syntheticBatch(config, batch, 6, tasks, new Random(4)),
    [labelMaskInput('sentiment')]: { dtype: 'float32' as const, shape: [batch], data: Float32Array.from(sentimentMask) },
    [labelMaskInput('emotion')]: { dtype: 'float32' as const, shape: [batch], data: Float32Array.from(emotionMask) },
    ...(sentimentTargets ? { [labelInput('sentiment')]: { dtype: 'float32' as const, shape: [batch, 3], data: Float32Array.from(sentimentTargets) } } : {}),
  };
  const out = await session.run(feeds, initParams(g.build(), 2, 0.5));
  const sentiment = out['logits:sentiment']?.data as Float32Array;
  const emotion = out['logits:emotion']?.data as Float32Array;
  const distributions = feeds[labelInput('sentiment')]?.data as Float32Array;
  const targets = feeds[labelInput('emotion')]?.data as Float32Array;
  let total = 0;
  let n = 0;
  for (let b = 0; b < batch; b++) {
    if (sentimentMask[b]) {
      const logProbs = logSoftmax(Array.from(sentiment.subarray(3 * b, 3 * b + 3)));
      for (let k = 0; k < 3; k++) total -= (distributions[3 * b + k] as number) * (logProbs[k] as number);
    }
    if (emotionMask[b]) {
      for (let l = 0; l < 4; l++) {
        const z = emotion[4 * b + l] as number;
        total += softplus(z) - z * (targets[4 * b + l] as number);
      }
    }
    if (sentimentMask[b] || emotionMask[b]) n++;
  }
  return { loss: Number(out.loss?.data[0]), expected: total / n };
}

describe('multi-task loss (Eq. 1)', () => {
  it('sums the labeled tasks per example and divides by the labeled examples, CLS pooling', async () => {
    // Example 4 is labeled for no task: it must not count in N.
    const { loss, expected } = await lossAndLogits('cls', [1, 0, 1, 0, 0], [0, 1, 1, 1, 0]);
    expect(loss).toBeCloseTo(expected, 5);
  });

  it('is the same under mean pooling, with every example fully labeled', async () => {
    const { loss, expected } = await lossAndLogits('mean', [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    expect(loss).toBeCloseTo(expected, 5);
  });

  it('takes a distribution as a multiclass target: cross-entropy against a teacher\'s probabilities', async () => {
    const soft = [0.7, 0.2, 0.1, 0, 0, 1, 0.25, 0.25, 0.5, 1 / 3, 1 / 3, 1 / 3, 0.05, 0.9, 0.05];
    const { loss, expected } = await lossAndLogits('cls', [1, 1, 1, 1, 1], [0, 1, 0, 0, 1], soft);
    expect(loss).toBeCloseTo(expected, 5);
    const { loss: hard } = await lossAndLogits('cls', [1, 1, 1, 1, 1], [0, 1, 0, 0, 1]);
    expect(Math.abs(loss - hard)).toBeGreaterThan(1e-3); // the targets reach the loss
  });

  it('is 0 for a batch with no labels, not NaN', async () => {
    const { loss } = await lossAndLogits('cls', [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]);
    expect(loss).toBe(0);
  });

  it('rejects task names that cannot name parameters', () => {
    const g = new GraphBuilder('bad');
    expect(() => multiTaskClassifier(g, config, [{ name: 'a.b', type: 'multiclass', labels: ['x', 'y'] }], { training: false, pooling: 'cls', headStyle: 'linear' }))
      .toThrow(/task name "a.b"/);
  });
});

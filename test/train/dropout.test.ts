// Dropout masks fed per step: reproducible from (seed, step), so a resumed run trains exactly like an unbroken one.
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/training-graph.ts';
import { syntheticBatch, syntheticTask } from '../../src/bench/synthetic.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import { multiTaskClassifier, multiTaskLoss } from '../../src/models/multitask.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { dropoutMasks } from '../../src/models/dropout.ts';
import { initParams } from '../../src/models/init.ts';
import { AdamW, constantSchedule } from '../../src/optim/index.ts';
import { TrainingSession } from '../../src/runtime/training-session.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { Random } from '../../src/util/random.ts';

const TASK = syntheticTask('task', 3);

const config = encoderConfig({
  vocabSize: 32, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32,
  maxPositionEmbeddings: 16, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.2,
});

async function setup(): Promise<{ session: TrainingSession; fresh: () => ReturnType<typeof initParams> }> {
  const g = new GraphBuilder('tiny');
  const logits = multiTaskClassifier(g, config, [TASK], { training: true, pooling: 'cls', headStyle: 'linear' });
  const training = trainingGraph(g, { loss: multiTaskLoss(g, [TASK], logits) });
  return { session: await TrainingSession.create(training, { threads: 1 }), fresh: () => initParams(training.graph, 1) };
}

const batches = Array.from({ length: 6 }, (_, i) => syntheticBatch(config, 4, 6, [TASK], new Random(10 + i)));

describe('dropout masks', () => {
  it('keep 1 − ratio of the units, and repeat exactly for the same seed and step', async () => {
    const { session } = await setup();
    const graph = session.training.graph;
    const a = dropoutMasks(graph, { batch: 64, seq: 32 }, 7, 3);
    const attention = Object.entries(a).find(([name]) => name.includes('attention.self'))?.[1];
    const values = attention?.data as Float32Array;
    const kept = values.filter((v) => v !== 0).length / values.length;
    expect(new Set(values)).toEqual(new Set([0, Math.fround(1 / 0.8)]));
    expect(attention?.shape).toEqual([64, 2, 32, 32]);
    expect(kept).toBeGreaterThan(0.79);
    expect(kept).toBeLessThan(0.81);
    const again = dropoutMasks(graph, { batch: 64, seq: 32 }, 7, 3);
    const other = dropoutMasks(graph, { batch: 64, seq: 32 }, 7, 4);
    for (const name of Object.keys(a)) {
      expect(again[name]?.data).toEqual(a[name]?.data);
      expect(other[name]?.data).not.toEqual(a[name]?.data);
    }
  });

  it('make a resumed run end with the same weights as an unbroken run', async () => {
    const { session, fresh } = await setup();
    const options = () => ({ optimizer: new AdamW(), schedule: constantSchedule(1e-2), seed: 5 });
    const unbroken = new Trainer(session, fresh(), options());
    for (const batch of batches) await unbroken.step(batch);

    const first = new Trainer(session, fresh(), options());
    for (const batch of batches.slice(0, 3)) await first.step(batch);
    const saved = { params: new Map([...first.params].map(([k, p]) => [k, { ...p, data: p.data.slice() }])), optimizer: first.optimizer.state() };
    const resumedOptimizer = new AdamW();
    resumedOptimizer.loadState(saved.optimizer, saved.params);
    const { session: newSession } = await setup();
    const resumed = new Trainer(newSession, saved.params, { ...options(), optimizer: resumedOptimizer });
    for (const batch of batches.slice(3)) await resumed.step(batch);

    for (const [name, p] of unbroken.params) expect(resumed.params.get(name)?.data).toEqual(p.data);
  });
});

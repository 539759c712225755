// The training step: non-finite guards, gradient accumulation, one session across batch and sequence sizes.
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/training-graph.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import type { ParamStore } from '../../src/ir/params.ts';
import { multiTaskClassifier, multiTaskLoss } from '../../src/models/multitask.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { initParams } from '../../src/models/init.ts';
import { AdamW, constantSchedule, NonFiniteError, SGD } from '../../src/optim/index.ts';
import { TrainingSession } from '../../src/runtime/training-session.ts';
import { syntheticBatch, syntheticTask } from '../../src/bench/synthetic.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { Random } from '../../src/util/random.ts';

const TASK = syntheticTask('task', 3);

/** loss = Σ log(x·w): finite while every x·w > 0. */
async function logLoss(): Promise<{ session: TrainingSession; params: Map<string, { name: string; shape: number[]; data: Float32Array }> }> {
  const g = new GraphBuilder('log_loss');
  const x = g.input('x', 'float32', [2]);
  const w = g.param('w', [2]);
  const training = trainingGraph(g, { loss: g.op.ReduceSum(g.op.Log(g.op.Mul(x, w)), undefined, { keepdims: false }) });
  return { session: await TrainingSession.create(training, { threads: 1 }), params: new Map([['w', { name: 'w', shape: [2], data: new Float32Array([1, 1]) }]]) };
}

const copy = (params: ParamStore): Float32Array[] => [...params.values()].map((p) => p.data.slice());

describe('Trainer', () => {
  it('stops at a non-finite loss with an error naming it, leaving parameters untouched', async () => {
    const { session, params } = await logLoss();
    const trainer = new Trainer(session, params, { optimizer: new SGD(), schedule: constantSchedule(0.1) });
    const feeds = { x: { dtype: 'float32' as const, shape: [2], data: new Float32Array([1, -1]) } };
    const error = await trainer.step(feeds).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toMatch(/loss/);
    expect(Array.from(params.get('w')?.data ?? [])).toEqual([1, 1]);
  });

  it('skips a non-finite step when configured, and goes on with the next', async () => {
    const { session, params } = await logLoss();
    const trainer = new Trainer(session, params, { optimizer: new SGD(), schedule: constantSchedule(0.1), nonFinite: 'skip' });
    const bad = await trainer.step({ x: { dtype: 'float32', shape: [2], data: new Float32Array([1, -1]) } });
    expect(bad.skipped?.what).toBe('loss');
    expect(Array.from(params.get('w')?.data ?? [])).toEqual([1, 1]);
    const good = await trainer.step({ x: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
    expect(good.skipped).toBeNull();
    // d/dw log(x·w) = 1/w = 1, so w = 1 − 0.1·1
    expect(Array.from(params.get('w')?.data ?? [])).toEqual([Math.fround(0.9), Math.fround(0.9)]);
  });

  it('averages micro-batches exactly like one batch of their union, and runs any batch and sequence size', async () => {
    const config = encoderConfig({
      vocabSize: 32, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32,
      maxPositionEmbeddings: 16, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
    });
    const g = new GraphBuilder('tiny');
    const logits = multiTaskClassifier(g, config, [TASK], { training: true, pooling: 'cls', headStyle: 'linear' });
    const training = trainingGraph(g, { loss: multiTaskLoss(g, [TASK], logits) });
    const session = await TrainingSession.create(training, { threads: 1 });
    const whole = syntheticBatch(config, 8, 6, [TASK], new Random(5));
    const half = (from: number): typeof whole => Object.fromEntries(Object.entries(whole).map(([k, t]) => {
      const rowSize = t.shape.length === 2 ? (t.shape[1] as number) : 1;
      return [k, { ...t, shape: [4, ...t.shape.slice(1)], data: t.data.slice(from * rowSize, (from + 4) * rowSize) }];
    })) as typeof whole;

    const one = new Trainer(session, initParams(training.graph, 1), { optimizer: new AdamW(), schedule: constantSchedule(1e-2) });
    const two = new Trainer(session, initParams(training.graph, 1), { optimizer: new AdamW(), schedule: constantSchedule(1e-2) });
    const a = await one.step(whole);
    const b = await two.step([half(0), half(4)]);
    expect(b.loss).toBeCloseTo(a.loss, 5);
    expect(b.gradNorm).toBeCloseTo(a.gradNorm, 4);
    const pa = copy(one.params);
    const pb = copy(two.params);
    pa.forEach((p, i) => p.forEach((v, j) => expect(pb[i]?.[j]).toBeCloseTo(v, 5)));

    for (const [batchSize, seq] of [[1, 3], [5, 16], [2, 9]] as const) {
      const report = await one.step(syntheticBatch(config, batchSize, seq, [TASK], new Random(batchSize)));
      expect(Number.isFinite(report.loss)).toBe(true);
    }
  });
});

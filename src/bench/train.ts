// Training-throughput benchmark: a BERT-family classifier's full training step (forward, backward, AdamW)
// against the machine's fp32 GEMM peak, measured in the same process on the same threads.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { GraphBuilder } from '../builder/builder.ts';
import { trainingGraph } from '../autodiff/training-graph.ts';
import { encoderConfig, forwardMatmulFlops } from '../models/config.ts';
import { multiTaskClassifier, multiTaskLoss } from '../models/multitask.ts';
import { dropoutMasks } from '../models/dropout.ts';
import { initParams } from '../models/init.ts';
import { AdamW } from '../optim/index.ts';
import { TrainingSession } from '../runtime/training-session.ts';
import { Random } from '../util/random.ts';
import { gemmPeak } from './gemm.ts';
import { type OpTypeTime, takeProfile } from './profile.ts';
import { syntheticBatch, syntheticTask } from './synthetic.ts';

export interface TrainBenchOptions {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly seq: number;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly threads: number;
  readonly labels: number;
  readonly dropout: number;
  /** Also profile the timed steps and report kernel time per op type. */
  readonly profile: boolean;
}

/** MiniLM-L6-H384 with a 32k vocabulary, sequence 128, batch 32. */
export const TRAIN_BENCH_DEFAULTS: TrainBenchOptions = {
  layers: 6, hidden: 384, heads: 12, ffn: 1536, vocab: 32000, seq: 128, batch: 32,
  steps: 5, warmup: 2, threads: 2, labels: 3, dropout: 0.1, profile: false,
};

export interface TrainBenchResult {
  readonly model: { layers: number; hidden: number; heads: number; ffn: number; vocab: number; params: number };
  readonly seq: number;
  readonly batch: number;
  readonly threads: number;
  readonly steps: number;
  readonly tokensPerSec: number;
  /** Whole step: dropout masks, ONNX Runtime run and optimizer update. */
  readonly stepMs: number;
  /** Dropout masks and the ONNX Runtime run. */
  readonly runMs: number;
  readonly optimizerMs: number;
  readonly flopsPerStep: number;
  readonly flopCounting: string;
  readonly achievedGflops: number;
  readonly gemmPeakGflops: number;
  readonly gemmPeakShape: readonly number[];
  readonly ratio: number;
  readonly peakRssMb: number;
  readonly graphNodes: number;
  readonly opTypes?: readonly OpTypeTime[];
}

export async function benchTrain(o: TrainBenchOptions, log: (line: string) => void = () => {}): Promise<TrainBenchResult> {
  const config = encoderConfig({
    vocabSize: o.vocab, hiddenSize: o.hidden, numHiddenLayers: o.layers, numAttentionHeads: o.heads,
    intermediateSize: o.ffn, maxPositionEmbeddings: Math.max(512, o.seq), hiddenDropoutProb: o.dropout,
    attentionProbsDropoutProb: o.dropout,
  });
  const g = new GraphBuilder('bench_train');
  const task = syntheticTask('task', o.labels);
  const logits = multiTaskClassifier(g, config, [task], { training: true, pooling: 'cls', headStyle: 'linear' });
  const training = trainingGraph(g, { loss: multiTaskLoss(g, [task], logits) });
  const params = initParams(training.graph, 1);
  const paramCount = [...params.values()].reduce((a, p) => a + p.data.length, 0);
  log(`model: ${paramCount.toLocaleString()} parameters, ${training.graph.nodes.length} nodes`);

  const profilePrefix = o.profile ? join(tmpdir(), `xlmt-bench-${process.pid}`) : undefined;
  const session = await TrainingSession.create(training, { threads: o.threads, ...(profilePrefix ? { profilePrefix } : {}) });
  const optimizer = new AdamW({ weightDecay: 0.01 });
  const batch = syntheticBatch(config, o.batch, o.seq, [task], new Random(7));

  let runMs = 0;
  let optimizerMs = 0;
  for (let step = 0; step < o.warmup + o.steps; step++) {
    const t0 = performance.now();
    const masks = dropoutMasks(training.graph, { batch: o.batch, seq: o.seq }, 1, step);
    const result = await session.step({ ...batch, ...masks }, params);
    const t1 = performance.now();
    optimizer.step(params, result.gradients, 1e-4);
    const t2 = performance.now();
    if (step >= o.warmup) {
      runMs += t1 - t0;
      optimizerMs += t2 - t1;
    }
    log(`step ${step + 1}/${o.warmup + o.steps}${step < o.warmup ? ' (warm-up)' : ''}: ${(t2 - t0).toFixed(0)} ms, loss ${result.loss.toFixed(4)}`);
  }
  let opTypes: OpTypeTime[] | undefined;
  if (profilePrefix) {
    session.endProfiling();
    opTypes = takeProfile(profilePrefix, o.warmup + o.steps);
  }
  await session.release();

  log('measuring the GEMM peak…');
  const peak = await gemmPeak(o.threads);
  const stepMs = (runMs + optimizerMs) / o.steps;
  const flopsPerStep = 3 * forwardMatmulFlops(config, o.batch, o.seq, o.labels);
  const achievedGflops = flopsPerStep / (stepMs * 1e6);
  return {
    model: { layers: o.layers, hidden: o.hidden, heads: o.heads, ffn: o.ffn, vocab: o.vocab, params: paramCount },
    seq: o.seq,
    batch: o.batch,
    threads: o.threads,
    steps: o.steps,
    tokensPerSec: (o.batch * o.seq) / (stepMs / 1000),
    stepMs,
    runMs: runMs / o.steps,
    optimizerMs: optimizerMs / o.steps,
    flopsPerStep,
    flopCounting: 'forward matmul FLOPs (projections, FFN, attention scores and context, head; 2 per multiply-add) × 3 for forward + backward',
    achievedGflops,
    gemmPeakGflops: peak.gflops,
    gemmPeakShape: peak.shape,
    ratio: achievedGflops / peak.gflops,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    graphNodes: training.graph.nodes.length,
    ...(opTypes ? { opTypes } : {}),
  };
}

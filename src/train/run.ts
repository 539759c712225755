// `xlmt train`: epochs of multi-task training with evaluation on dev, early stopping on mean macro-F1, the best
// model kept, and a resumable checkpoint that makes a killed run end with the same weights as an unbroken one.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { LabelValue, Task } from '../data/index.ts';
import type { ParamStore } from '../ir/params.ts';
import { AdamW, cosineSchedule, constantSchedule, linearSchedule, type Schedule } from '../optim/index.ts';
import { TrainingSession } from '../runtime/training-session.ts';
import { parseTrainConfig, type TrainConfig } from './config.ts';
import { evaluateDataset, fingerprintFile, type DatasetEvaluation } from './evaluate.ts';
import { foldedParams } from './char-ngrams.ts';
import { encodeExamples } from './examples.ts';
import type { LoopEvents } from './events.ts';
import { trainingFeeds, type TrainingTargets } from './feeds.ts';
import { saveModelDir } from './model-dir.ts';
import { Predictor } from './predict.ts';
import { loadRunState, readSavedConfig, type RunProgress, saveRunState } from './run-state.ts';
import { planEpoch, type SamplerOptions, taskMembers } from './sampler.ts';
import { setupRun } from './setup.ts';
import { Trainer } from './trainer.ts';
import { checkOutputDir, claimOutputDir, inputsOf, type OutputSpec } from '../util/output-dir.ts';
import { XlmtError } from '../errors/index.ts';

export interface StepEvent {
  readonly epoch: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  readonly examples: number;
}

export interface EvalEvent {
  readonly epoch: number;
  readonly step: number;
  readonly evaluation: DatasetEvaluation;
  /** Strictly better than every earlier evaluation (a tie is not): the rule that saves best/. */
  readonly improved: boolean;
  /** The best mean macro-F1 before this evaluation; null at the first. */
  readonly previousBest: number | null;
}

export interface RunEvents extends LoopEvents {
  onStep?(event: StepEvent): void;
  onEval?(event: EvalEvent): void;
}

export interface RunResult {
  readonly out: string;
  readonly steps: number;
  readonly epochs: number;
  readonly best: RunProgress['best'];
  readonly stoppedEarly: boolean;
}

const NO_LABELS: ReadonlyMap<string, LabelValue> = new Map();

/** Settings that a resumed run must share with the run it continues. */
function fingerprint(config: TrainConfig): string {
  const { threads: _threads, evalBatchSize: _evalBatchSize, out: _out, patience: _patience, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

function makeSchedule(config: TrainConfig, totalSteps: number): Schedule {
  const warmupSteps = Math.round(config.warmupRatio * totalSteps);
  if (config.schedule === 'constant') return constantSchedule(config.lr);
  const spec = { lr: config.lr, warmupSteps, totalSteps };
  return config.schedule === 'cosine' ? cosineSchedule(spec) : linearSchedule(spec);
}

/** The run directory as an output: a new or empty directory, or a run to resume; never one of the inputs. */
export function runOutput(config: TrainConfig): OutputSpec {
  const inputs = inputsOf({ '--train': config.train, '--dev': config.dev, '--tasks': config.tasks, '--tokenizer': config.tokenizer, '--init': config.init, '--teacher': config.teacher });
  return { command: 'train', path: config.out, inputs };
}

export async function runTraining(config: TrainConfig, events: RunEvents): Promise<RunResult> {
  const output = runOutput(config);
  checkOutputDir(output, 'write into');
  const setup = await setupRun(config, events.log);
  const { schema, train, dev, training, params } = setup;
  const tasks: readonly Task[] = schema.tasks;
  await claimOutputDir(output);
  const lastDir = join(config.out, 'checkpoints', 'last');
  const bestDir = join(config.out, 'best');
  const metricsFile = join(config.out, 'metrics.jsonl');

  const rows: readonly TrainingTargets[] = [...train.examples, ...setup.teacher.map((r) => ({ labels: NO_LABELS, soft: r.soft }))];
  const members = taskMembers(train.examples, setup.teacher, tasks);
  let sampler: SamplerOptions = { batchSize: config.batchSize, sampling: config.sampling, temperature: config.temperature, seed: config.seed };
  const microBatches = planEpoch(members, 0, sampler).length;
  const stepsPerEpoch = Math.ceil(microBatches / config.accumulation);
  const totalSteps = stepsPerEpoch * config.epochs;
  const optimizer = new AdamW({ weightDecay: config.weightDecay, eps: config.adamEps });

  let progress: RunProgress = { epoch: 0, batch: 0, step: 0, best: null, stale: 0, metricsLines: 0, done: false, fingerprint: fingerprint(config) };
  const saved = await loadRunState(lastDir);
  if (saved) {
    if (saved.progress.fingerprint !== progress.fingerprint) {
      const before = readSavedConfig(join(config.out, 'config.json'), parseTrainConfig);
      if (!before || fingerprint(before) !== progress.fingerprint) {
        throw new XlmtError({
          code: 'RUN_SETTINGS_CHANGED', message: 'holds an unfinished run with other settings', where: { file: config.out }, received: join(config.out, 'config.json'),
          hint: 'resume with the same configuration or choose another --out',
        });
      }
      writeFileSync(join(config.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`); // with the fields added since
    }
    for (const [name, p] of params) {
      const data = saved.params.get(name);
      if (!data || data.length !== p.data.length) {
        throw new XlmtError({ code: 'BAD_RUN_STATE', message: 'a parameter is missing or has the wrong size', where: { file: lastDir, tensor: name }, expected: `${p.data.length} values`, received: data ? `${data.length}` : 'none' });
      }
      p.data.set(data);
    }
    optimizer.loadState(saved.optimizer, params);
    progress = { ...saved.progress, fingerprint: progress.fingerprint };
    if (progress.done) {
      events.log(`${config.out} has finished already (step ${progress.step}); the best model is in ${bestDir}`);
      return { out: config.out, steps: progress.step, epochs: progress.epoch, best: progress.best, stoppedEarly: progress.epoch < config.epochs };
    }
    const kept = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l.trim()).slice(0, progress.metricsLines);
    writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(''));
    events.log(`resuming ${config.out} at epoch ${progress.epoch + 1}, step ${progress.step} of ${totalSteps}`);
  } else {
    writeFileSync(join(config.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(metricsFile, '');
  }

  const teacherRows = setup.teacher.length > 0 ? ` and ${setup.teacher.length} teacher` : '';
  events.log(`tokenizing ${train.examples.length} training${teacherRows}${dev ? ` and ${dev.examples.length} dev` : ''} examples (max length ${config.maxLength})`);
  const encodedTrain = await encodeExamples(setup.tokenizer, { examples: [...train.examples, ...setup.teacher] }, config.maxLength);
  const encodedDev = dev ? await encodeExamples(setup.tokenizer, dev, config.maxLength) : null;
  // Recorded with the best model, so that `xlmt eval` on this same file can say its thresholds were tuned there.
  const devFingerprint = dev ? await fingerprintFile(dev.file) : null;
  if (encodedTrain.truncated > 0) events.log(`${encodedTrain.truncated} training texts were cut to ${config.maxLength} tokens`);
  sampler = { ...sampler, lengths: encodedTrain.ids.map((ids) => ids.length), groupWindow: config.groupWindow };

  const session = await TrainingSession.create(training, { threads: config.threads });
  const trainer = new Trainer(session, params, {
    optimizer,
    schedule: makeSchedule(config, totalSteps),
    maxGradNorm: config.maxGradNorm,
    nonFinite: config.nonFinite,
    seed: config.seed,
  });
  const batchOptions = { padId: setup.padId, positions: setup.positions };
  const trainBatchOptions = { ...batchOptions, charNgrams: setup.charNgrams }; // the predictor's graph has no n-gram inputs
  /** The model as evaluated and saved: a plain encoder, character n-grams folded into the word embeddings. */
  const modelParams = () => (setup.charNgrams ? foldedParams(params, setup.charNgrams) : params);
  const predictor = dev
    ? await Predictor.create(setup.hf.encoder, tasks, { ...batchOptions, pooling: config.pooling, headStyle: config.headStyle, threads: config.threads, batchSize: config.evalBatchSize })
    : null;
  let lossSum = 0;
  let lossSteps = 0;
  const metric = (line: Record<string, unknown>): void => {
    appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
    progress = { ...progress, metricsLines: progress.metricsLines + 1 };
  };
  /** Saves the resumable state, after logging the mean training loss since the last save. */
  const checkpoint = async (): Promise<void> => {
    if (lossSteps > 0) metric({ type: 'train', epoch: progress.epoch, step: progress.step, loss: lossSum / lossSteps });
    lossSum = 0;
    lossSteps = 0;
    await saveRunState(lastDir, params, optimizer.state(), progress, 'train');
  };
  const saveBest = (model: ParamStore, thresholds: Record<string, number[]>, info: Record<string, unknown>): Promise<void> =>
    saveModelDir(bestDir, {
      hf: setup.hf, params: model, tokenizer: setup.tokenizer, schema,
      meta: { format: 'xlmt-model', version: 1, pooling: config.pooling, headStyle: config.headStyle, maxLength: config.maxLength, padId: setup.padId, positions: setup.positions, thresholds, info },
    });

  events.onStart?.({ totalSteps, startStep: progress.step, stepsPerEpoch });
  let stoppedEarly = false;
  for (let epoch = progress.epoch; epoch < config.epochs && !stoppedEarly; epoch++) {
    const plan = planEpoch(members, epoch, sampler);
    for (let b = progress.batch; b < plan.length; b += config.accumulation) {
      const group = plan.slice(b, b + config.accumulation);
      const feeds = group.map((batch) => trainingFeeds(rows, encodedTrain, batch.examples, tasks, trainBatchOptions));
      const report = await trainer.step(feeds);
      progress = { ...progress, epoch, batch: b + group.length, step: trainer.stepCount };
      const examples = group.reduce((s, batch) => s + batch.examples.length, 0);
      if (!report.skipped) {
        lossSum += report.loss;
        lossSteps++;
      }
      events.onStep?.({ epoch, step: progress.step, totalSteps, loss: report.loss, lr: report.lr, examples });
      if (report.skipped) events.log(`step ${report.step}: skipped, ${report.skipped.what} is not finite`);
      if (progress.step % config.checkpointEvery === 0) await checkpoint();
    }
    progress = { ...progress, epoch: epoch + 1, batch: 0 };
    const info = { epoch: epoch + 1, step: progress.step };
    if (predictor && dev && encodedDev) {
      const evaluated = modelParams();
      const evaluation = await evaluateDataset((indices) => predictor.predict(encodedDev, indices, evaluated), dev, tasks, { tune: true });
      const score = evaluation.summary.meanMacroF1;
      const previousBest = progress.best?.score ?? null;
      const improved = previousBest === null || score > previousBest;
      progress = improved ? { ...progress, best: { score, epoch: epoch + 1 }, stale: 0 } : { ...progress, stale: progress.stale + 1 };
      metric({ type: 'eval', ...info, meanMacroF1: score, tasks: evaluation.summary.tasks, thresholds: evaluation.thresholds });
      if (improved) await saveBest(evaluated, evaluation.thresholds, { ...info, devMeanMacroF1: score, dev: evaluation.summary.tasks, thresholdsTunedOn: devFingerprint });
      events.onEval?.({ epoch: epoch + 1, step: progress.step, evaluation, improved, previousBest });
      stoppedEarly = config.patience > 0 && progress.stale >= config.patience && epoch + 1 < config.epochs;
    } else {
      await saveBest(modelParams(), {}, info);
    }
    progress = { ...progress, done: stoppedEarly || epoch + 1 >= config.epochs };
    await checkpoint();
    if (stoppedEarly) events.log(`stopping early: no better dev macro-F1 for ${progress.stale} epochs`);
  }
  await session.release();
  await predictor?.release();
  return { out: config.out, steps: progress.step, epochs: progress.epoch, best: progress.best, stoppedEarly };
}

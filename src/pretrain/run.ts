// `xlmt pretrain`: masked-LM pretraining on unlabeled text, from scratch or from a checkpoint, with the held-out
// loss measured at every checkpoint, model/ kept as a Hugging Face directory for `xlmt train --init`, and a
// resumable checkpoint that makes a killed run end with the same weights as an unbroken one.
import type { LoopEvents } from '../train/events.ts';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveHfModel } from '../checkpoint/index.ts';
import { AdamW, makeSchedule, type Schedule } from '../optim/index.ts';
import { type Feeds, Session } from '../runtime/session.ts';
import { TrainingSession } from '../runtime/training-session.ts';
import { loadRunState, readSavedConfig, type RunProgress, saveRunState } from '../train/run-state.ts';
import { Trainer } from '../train/trainer.ts';
import { checkOutputDir, claimOutputDir, inputsOf, type OutputSpec, recoverDir, replaceDir } from '../util/output-dir.ts';
import { mixSeed } from '../util/random.ts';
import { mlmBatch, type MlmBatch, type MlmBatchOptions } from './batches.ts';
import { parsePretrainConfig, type PretrainConfig } from './config.ts';
import { batchesPerEpoch, corpusBatches, cursorAt, type CorpusBatch } from './corpus.ts';
import { MLM_CORRECT, type PretrainSetup, setupPretraining } from './setup.ts';
import { XlmtError } from '../errors/index.ts';

/** Seed stream of the held-out texts' masks: fixed for the whole run, apart from every training step's. */
const EVAL_MASK_STREAM = 0xe7a1;

export interface PretrainStepEvent {
  /** The epoch (from 0) of the batch just trained on. */
  readonly epoch: number;
  /** Steps taken, this one included. */
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  /** Real tokens in the batch (padding not counted). */
  readonly tokens: number;
}

/** Masked-LM scores: mean cross-entropy per masked token and the share of masked tokens ranked first. */
export interface MlmScores {
  readonly loss: number;
  readonly accuracy: number;
  readonly masked: number;
}

export interface PretrainCheckpointEvent {
  readonly step: number;
  readonly totalSteps: number;
  /** Over the steps since the last checkpoint; null when all of them were skipped. */
  readonly train: (MlmScores & { readonly tokensPerSec: number }) | null;
  /** On the held-out texts; null without them. */
  readonly eval: MlmScores | null;
}

export interface PretrainEvents extends LoopEvents {
  onStep?(event: PretrainStepEvent): void;
  onCheckpoint?(event: PretrainCheckpointEvent): void;
}

export interface PretrainResult {
  readonly out: string;
  /** The Hugging Face model directory: `xlmt train --init` takes it. */
  readonly model: string;
  readonly steps: number;
  /** The run had finished before this call, which changed nothing. */
  readonly alreadyFinished: boolean;
  /** The last held-out scores, when there are held-out texts. */
  readonly eval: MlmScores | null;
}

/** Settings a resumed run must share with the run it continues; the rest only change speed or where output goes. */
function settingsOf(config: PretrainConfig): Record<string, unknown> {
  const { threads: _threads, evalBatchSize: _evalBatchSize, out: _out, ...rest } = config;
  return rest;
}

function fingerprint(config: PretrainConfig, corpusHash: string): string {
  const settings = createHash('sha256').update(JSON.stringify(settingsOf(config))).digest('hex').slice(0, 16);
  return `${settings}:${corpusHash}`;
}

function schedule(config: PretrainConfig, totalSteps: number): Schedule {
  const warmupSteps = Math.round(config.warmupRatio * totalSteps);
  if (config.schedule === 'constant') return makeSchedule({ kind: 'constant', lr: config.lr });
  return makeSchedule({ kind: config.schedule, lr: config.lr, warmupSteps, totalSteps });
}

/** The run directory as an output (both objectives): a new or empty directory, or a run to resume. */
export function pretrainOutput(config: PretrainConfig): OutputSpec {
  return { command: 'pretrain', path: config.out, inputs: inputsOf({ '--corpus': config.corpus, '--tokenizer': config.tokenizer, '--init': config.init }) };
}

export async function runPretraining(config: PretrainConfig, events: PretrainEvents): Promise<PretrainResult> {
  const output = pretrainOutput(config);
  checkOutputDir(output, 'write into');
  const setup = await setupPretraining(config, events.log);
  const { params, tokenizer } = setup;
  await claimOutputDir(output);
  const lastDir = join(config.out, 'checkpoints', 'last');
  const modelDir = join(config.out, 'model');
  const metricsFile = join(config.out, 'metrics.jsonl');
  const configFile = join(config.out, 'config.json');

  const batching = { batchSize: config.batchSize, seed: config.seed, groupWindow: config.groupWindow };
  const corpusSize = setup.train.texts.length;
  const stepsPerEpoch = batchesPerEpoch(corpusSize, batching);
  const totalSteps = config.steps ?? (config.epochs ?? 1) * stepsPerEpoch;
  const optimizer = new AdamW({ weightDecay: config.weightDecay, eps: config.adamEps });

  // `step` counts batches consumed; it equals the optimizer's step count unless updates were skipped (nonFinite).
  let progress: RunProgress = { epoch: 0, batch: 0, step: 0, best: null, stale: 0, metricsLines: 0, done: false, fingerprint: fingerprint(config, setup.corpusHash) };
  const saved = await loadRunState(lastDir);
  if (saved) {
    if (saved.progress.fingerprint !== progress.fingerprint) {
      const before = readSavedConfig(configFile, parsePretrainConfig);
      if (!before || fingerprint(before, setup.corpusHash) !== progress.fingerprint) throw otherSettings(config, before, configFile, saved.progress.fingerprint, progress.fingerprint);
      writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`); // with the fields added since
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
      events.log(`${config.out} has finished already (${progress.step} steps); the model is in ${modelDir}`);
      await recoverDir(modelDir);
      return { out: config.out, model: modelDir, steps: progress.step, alreadyFinished: true, eval: lastEval(metricsFile) };
    }
    const kept = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l.trim()).slice(0, progress.metricsLines);
    writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(''));
    events.log(`resuming ${config.out} at step ${progress.step} of ${totalSteps}`);
  } else {
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(metricsFile, '');
  }

  const batchOptions = { maxLength: config.maxLength, positions: setup.positions, masking: { maskProbability: config.maskProbability } };
  const heldOut = setup.heldOut ? await heldOutBatches(setup, config, batchOptions) : null;
  const session = await TrainingSession.create(setup.training, { threads: config.threads });
  const trainer = new Trainer(session, params, {
    optimizer,
    schedule: schedule(config, totalSteps),
    maxGradNorm: config.maxGradNorm,
    nonFinite: config.nonFinite,
    seed: config.seed,
  });
  const evalSession = heldOut ? await Session.create(setup.evaluation, { threads: config.threads }) : null;
  const evaluate = async (): Promise<MlmScores | null> => (evalSession && heldOut ? scoreHeldOut(evalSession, heldOut, params) : null);

  const metric = (line: Record<string, unknown>): void => {
    appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
    progress = { ...progress, metricsLines: progress.metricsLines + 1 };
  };
  let lastEvalScores: MlmScores | null = null;
  const evalMetric = async (): Promise<MlmScores | null> => {
    const scores = await evaluate();
    if (scores) metric({ type: 'eval', step: progress.step, loss: scores.loss, accuracy: scores.accuracy, masked: scores.masked, texts: setup.heldOut?.texts.length ?? 0 });
    lastEvalScores = scores ?? lastEvalScores;
    return scores;
  };
  if (progress.step === 0 && heldOut) {
    const before = await evalMetric();
    if (before) events.log(`held-out masked-LM loss before training ${before.loss.toFixed(4)}, accuracy ${(100 * before.accuracy).toFixed(1)}%`);
  }

  // Scores since the last checkpoint.
  let interval = { steps: 0, lossSum: 0, correct: 0, masked: 0, tokens: 0, seconds: 0, lr: 0, epoch: progress.epoch };
  const resetInterval = (): void => {
    interval = { steps: 0, lossSum: 0, correct: 0, masked: 0, tokens: 0, seconds: 0, lr: 0, epoch: progress.epoch };
  };
  const checkpoint = async (): Promise<void> => {
    const train = interval.steps > 0
      ? { loss: interval.lossSum / interval.steps, accuracy: interval.correct / Math.max(1, interval.masked), masked: interval.masked, tokensPerSec: interval.tokens / Math.max(1e-9, interval.seconds) }
      : null;
    if (train) metric({ type: 'train', epoch: interval.epoch, step: progress.step, lr: interval.lr, ...train });
    const scores = await evalMetric();
    events.onCheckpoint?.({ step: progress.step, totalSteps, train, eval: scores });
    await replaceDir(modelDir, 'pretrain', async (tmp) => {
      await saveHfModel(tmp, { config: setup.hf, params, metadata: { producer: 'xlmt pretrain', step: String(progress.step) } });
      tokenizer.save(join(tmp, 'tokenizer.json'));
    });
    await saveRunState(lastDir, params, optimizer.state(), progress, 'pretrain');
    resetInterval();
  };

  events.log(`pretraining ${totalSteps} steps of ${config.batchSize} texts (${stepsPerEpoch} steps an epoch of ${corpusSize} texts), max length ${config.maxLength}`);
  events.onStart?.({ totalSteps, startStep: progress.step, stepsPerEpoch });
  try {
    const batches = corpusBatches(setup.train, { ...batching, from: cursorAt(progress.step, corpusSize, batching) });
    while (progress.step < totalSteps) {
      const started = performance.now();
      const batch = batches.next().value as CorpusBatch; // without `epochs`, the generator never ends
      // Masks are drawn by (seed, step): a resumed run masks batch k exactly as the unbroken run did.
      const mlm = await mlmBatch(tokenizer, batch.texts, { ...batchOptions, seed: config.seed, step: progress.step });
      const report = mlm.masked > 0 ? await trainer.step(mlm.feeds) : null;
      const step = progress.step + 1;
      const next = cursorAt(step, corpusSize, batching);
      progress = { ...progress, epoch: next.epoch, batch: next.batch, step };
      interval.seconds += (performance.now() - started) / 1000;
      interval.tokens += mlm.tokens;
      interval.epoch = batch.epoch;
      if (report === null) events.log(`step ${step}: no token of the batch can be masked; skipped`);
      else if (report.skipped) events.log(`step ${step}: skipped, ${report.skipped.what} is not finite`);
      else {
        interval.steps++;
        interval.lossSum += report.loss;
        interval.correct += Number(report.outputs[0]?.[MLM_CORRECT]?.data[0] ?? 0);
        interval.masked += mlm.masked;
        interval.lr = report.lr;
      }
      events.onStep?.({ epoch: batch.epoch, step, totalSteps, loss: report?.loss ?? Number.NaN, lr: report?.lr ?? 0, tokens: mlm.tokens });
      if (step === totalSteps) progress = { ...progress, done: true };
      if (step % config.checkpointEvery === 0 || step === totalSteps) await checkpoint();
    }
  } finally {
    await session.release();
    await evalSession?.release();
  }
  return { out: config.out, model: modelDir, steps: progress.step, alreadyFinished: false, eval: lastEvalScores };
}

interface HeldOutBatch {
  readonly feeds: Feeds;
  readonly masked: number;
}

/** The held-out texts tokenized and masked once: every evaluation of the run scores the same masked tokens. */
async function heldOutBatches(setup: PretrainSetup, config: PretrainConfig, options: Pick<MlmBatchOptions, 'maxLength' | 'positions' | 'masking'>): Promise<HeldOutBatch[]> {
  const texts = setup.heldOut?.texts ?? [];
  const batches: HeldOutBatch[] = [];
  for (let start = 0, k = 0; start < texts.length; start += config.evalBatchSize, k++) {
    const batch: MlmBatch = await mlmBatch(setup.tokenizer, texts.slice(start, start + config.evalBatchSize), { ...options, seed: mixSeed(config.seed, EVAL_MASK_STREAM), step: k });
    if (batch.masked > 0) batches.push({ feeds: batch.feeds, masked: batch.masked });
  }
  return batches;
}

async function scoreHeldOut(session: Session, batches: readonly HeldOutBatch[], params: PretrainSetup['params']): Promise<MlmScores | null> {
  let lossSum = 0;
  let correct = 0;
  let masked = 0;
  for (const batch of batches) {
    const out = await session.run(batch.feeds, params, ['loss', MLM_CORRECT]);
    lossSum += Number(out.loss?.data[0]) * batch.masked; // the graph's loss is a mean over the batch's masked tokens
    correct += Number(out[MLM_CORRECT]?.data[0]);
    masked += batch.masked;
  }
  return masked > 0 ? { loss: lossSum / masked, accuracy: correct / masked, masked } : null;
}

/** The refusal, listing the settings that differ (`before`: the run's config.json read by this version). */
function otherSettings(config: PretrainConfig, before: PretrainConfig | null, configFile: string, savedPrint: string, currentPrint: string): XlmtError {
  const [savedSettings, savedCorpus] = savedPrint.split(':');
  const [currentSettings, currentCorpus] = currentPrint.split(':');
  const differences: string[] = [];
  if (savedSettings !== currentSettings && before) {
    const then = settingsOf(before);
    const now = settingsOf(config);
    for (const key of new Set([...Object.keys(then), ...Object.keys(now)])) {
      const [a, b] = [JSON.stringify(then[key]), JSON.stringify(now[key])];
      if (a !== b) differences.push(`${key}: ${a ?? 'unset'} in the run, ${b ?? 'unset'} now`);
    }
  }
  if (savedCorpus !== currentCorpus) differences.push(`the corpus texts differ from those the run started with`);
  const detail = differences.length > 0 ? `: ${differences.join('; ')}` : '';
  return new XlmtError({
    code: 'RUN_SETTINGS_CHANGED', message: `holds an unfinished run with other settings (${configFile})${detail}`, where: { file: config.out },
    hint: 'resume with the same configuration and corpus or choose another --out',
  });
}

function lastEval(metricsFile: string): MlmScores | null {
  if (!existsSync(metricsFile)) return null;
  const lines = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.filter((l) => l.type === 'eval').at(-1);
  return last ? { loss: Number(last.loss), accuracy: Number(last.accuracy), masked: Number(last.masked) } : null;
}

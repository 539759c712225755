// The masked-LM objective of `xlmt pretrain`: a run sized in steps over corpus batches masked by (seed, step), the
// held-out loss measured before training and at every checkpoint, and model/ rewritten there: the latest model is
// the one kept.
import { join } from 'node:path';
import { XlmtError } from '../errors/index.ts';
import type { LoopEvents, Objective, ObjectiveRun, PlanItem, RunIdentity, RunProgress } from '../train/loop/index.ts';
import { recoverDir } from '../util/output-dir.ts';
import { mlmBatch } from './batches.ts';
import { parsePretrainConfig, type PretrainConfig } from './config.ts';
import { batchesPerEpoch, corpusBatches, cursorAt, type CorpusBatch } from './corpus.ts';
import { heldOutScorer, type MlmScores } from './held-out.ts';
import { MLM_CORRECT } from './mlm-graph.ts';
import { savePretrainedModel } from './model-dir.ts';
import type { PretrainSetup } from './setup.ts';

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

/** What a planned step notes of its batch. */
interface MlmBatchNote {
  /** Real tokens (padding not counted). */
  readonly tokens: number;
  readonly masked: number;
}

/** Settings a resumed run must share with the run it continues; the rest only change speed or where output goes. */
function settingsOf(config: PretrainConfig): Record<string, unknown> {
  const { threads: _threads, evalBatchSize: _evalBatchSize, out: _out, ...rest } = config;
  return rest;
}

/** The refusal, listing the settings that differ (`before`: the run's config.json read by this version). */
function otherSettings(config: PretrainConfig, before: PretrainConfig | null, savedPrint: string, currentPrint: string): XlmtError {
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
    code: 'RUN_SETTINGS_CHANGED', message: `holds an unfinished run with other settings (${join(config.out, 'config.json')})${detail}`, where: { file: config.out },
    hint: 'resume with the same configuration and corpus or choose another --out',
  });
}

function identityOf(config: PretrainConfig, setup: PretrainSetup): RunIdentity<PretrainConfig> {
  return {
    config, parse: parsePretrainConfig, settings: settingsOf, data: setup.corpusHash,
    refusal: (before, saved, current) => otherSettings(config, before, saved, current),
  };
}

export function mlmObjective(config: PretrainConfig, setup: PretrainSetup, events: PretrainEvents): Objective<PretrainConfig, MlmScores, MlmBatchNote> {
  const batching = { batchSize: config.batchSize, seed: config.seed, groupWindow: config.groupWindow };
  const stepsPerEpoch = batchesPerEpoch(setup.train.texts.length, batching);
  const totalSteps = config.steps ?? (config.epochs ?? 1) * stepsPerEpoch;
  const modelDir = join(config.out, 'model');
  return {
    identity: identityOf(config, setup),
    size: { unit: 'steps', totalSteps, stepsPerEpoch },
    training: setup.training,
    params: setup.params,
    modelAt: 'checkpoint',
    finished: async (progress) => {
      events.log(`${config.out} has finished already (${progress.step} steps); the model is in ${modelDir}`);
      await recoverDir(modelDir);
    },
    start: () => startMlm(config, setup, events, totalSteps, stepsPerEpoch),
  };
}

async function startMlm(config: PretrainConfig, setup: PretrainSetup, events: PretrainEvents, totalSteps: number, stepsPerEpoch: number): Promise<ObjectiveRun<MlmScores, MlmBatchNote>> {
  const { tokenizer, params } = setup;
  const corpusSize = setup.train.texts.length;
  const batching = { batchSize: config.batchSize, seed: config.seed, groupWindow: config.groupWindow };
  const batchOptions = { maxLength: config.maxLength, positions: setup.positions, masking: { maskProbability: config.maskProbability } };
  const heldOut = await heldOutScorer(setup, config, batchOptions);

  async function* plan(from: RunProgress): AsyncGenerator<PlanItem<MlmBatchNote>> {
    const batches = corpusBatches(setup.train, { ...batching, from: cursorAt(from.step, corpusSize, batching) });
    for (let step = from.step; step < totalSteps; step++) {
      const batch = batches.next().value as CorpusBatch; // without `epochs`, the generator never ends
      // Masks are drawn by (seed, step): a resumed run masks batch k exactly as the unbroken run did.
      const mlm = await mlmBatch(tokenizer, batch.texts, { ...batchOptions, seed: config.seed, step });
      yield {
        kind: 'step', epoch: batch.epoch, next: cursorAt(step + 1, corpusSize, batching),
        feeds: mlm.masked > 0 ? [mlm.feeds] : null, empty: 'no token of the batch can be masked',
        batch: { tokens: mlm.tokens, masked: mlm.masked }, last: step + 1 === totalSteps,
      };
    }
  }

  // Scores since the last checkpoint; `train` keeps the last interval's for the checkpoint event.
  const fresh = { steps: 0, lossSum: 0, correct: 0, masked: 0, tokens: 0, seconds: 0, lr: 0, epoch: 0 };
  let interval = { ...fresh };
  let train: PretrainCheckpointEvent['train'] = null;
  return {
    plan,
    stepped: ({ planned, report, step, seconds, note }) => {
      if (note) events.log(note);
      interval.seconds += seconds;
      interval.tokens += planned.batch.tokens;
      interval.epoch = planned.epoch;
      if (report && !report.skipped) {
        interval.steps++;
        interval.lossSum += report.loss;
        interval.correct += Number(report.outputs[0]?.[MLM_CORRECT]?.data[0] ?? 0);
        interval.masked += planned.batch.masked;
        interval.lr = report.lr;
      }
      events.onStep?.({ epoch: planned.epoch, step, totalSteps, loss: report?.loss ?? Number.NaN, lr: report?.lr ?? 0, tokens: planned.batch.tokens });
    },
    interval: (progress) => {
      const i = interval;
      train = i.steps > 0
        ? { loss: i.lossSum / i.steps, accuracy: i.correct / Math.max(1, i.masked), masked: i.masked, tokensPerSec: i.tokens / Math.max(1e-9, i.seconds) }
        : null;
      interval = { ...fresh };
      return train ? { epoch: i.epoch, step: progress.step, lr: i.lr, ...train } : null;
    },
    evaluation: heldOut && {
      run: (model) => heldOut.score(model),
      metric: (s, progress) => ({ step: progress.step, loss: s.loss, accuracy: s.accuracy, masked: s.masked, texts: setup.heldOut?.texts.length ?? 0 }),
      baseline: (s) => `held-out masked-LM loss before training ${s.loss.toFixed(4)}, accuracy ${(100 * s.accuracy).toFixed(1)}%`,
    },
    model: () => params,
    reached: async (point) => {
      events.onCheckpoint?.({ step: point.progress.step, totalSteps, train, eval: point.scores });
      await savePretrainedModel(join(config.out, 'model'), { hf: setup.hf, params: point.model, tokenizer, metadata: { producer: 'xlmt pretrain', step: String(point.progress.step) } });
    },
    banner: `pretraining ${totalSteps} steps of ${config.batchSize} texts (${stepsPerEpoch} steps an epoch of ${corpusSize} texts), max length ${config.maxLength}`,
    release: async () => {
      await heldOut?.release();
    },
  };
}

// The multi-task classification objective of `xlmt train`: epochs of task-sampled batches of gold labels (and a
// teacher file's soft targets), evaluated on dev at every epoch's end, where "best" is the highest mean macro-F1
// and the best model is written to best/ with the multilabel thresholds tuned there. Distillation from online
// teachers (compress/distill/online-objective.ts) is this objective with another loss and a teacher's inputs
// added to each batch (BatchInputs). With `qat` (differentiate.ts) the 'ema' input ranges are fed with every
// micro-batch and updated from every step's outputs, the 'lsq' steps are calibrated before a new run's first step,
// dev scores the fake-quantized model, and best/ records the ranges (qat-state.ts).
import { join } from 'node:path';
import type { LabelValue } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import type { ParamStore } from '../ir/params.ts';
import type { Feeds } from '../runtime/session.ts';
import { foldedParams } from './char-ngrams.ts';
import { parseTrainConfig, type TrainConfig } from './config.ts';
import { evaluateDataset, type DatasetEvaluation, type DataFingerprint, fingerprintFile } from './evaluate.ts';
import { encodeExamples, type EncodedExamples } from './examples.ts';
import { trainingFeeds, type TrainingTargets } from './feeds.ts';
import type { Evaluation, LoopEvents, ModelPoint, Objective, ObjectiveRun, PlanItem, RunIdentity, RunProgress } from './loop/index.ts';
import { saveModelDir } from './model-dir.ts';
import { Predictor } from './predict.ts';
import { CALIBRATION_BATCHES, calibrateSteps } from './qat-calibration.ts';
import { qatCheckpointState, quantizationSection, withoutSteps } from './qat-state.ts';
import { planEpoch, type SamplerOptions, type TaskMembers, taskMembers } from './sampler.ts';
import type { RunSetup } from './setup.ts';

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

/** What a planned step notes of its batch. */
export interface ClassifierBatch {
  readonly examples: number;
}

/** A micro-batch's training rows as the student reads them, in the batch's order. */
export interface RowBatch {
  readonly texts: readonly string[];
  /** The student's token ids (special tokens included) of each text. */
  readonly ids: readonly Int32Array[];
  /** The length the student cut its texts to. */
  readonly maxLength: number;
}

/**
 * Graph inputs that no dataset holds, computed for each micro-batch as it is planned (an online teacher's logits,
 * in a session of its own): an objective with such inputs passes this to classificationObjective.
 */
export type BatchInputs = (batch: RowBatch) => Promise<Feeds>;

const NO_LABELS: ReadonlyMap<string, LabelValue> = new Map();

/** A resumed run must share every setting but those that change only speed, output or when to stop. */
function identityOf(config: TrainConfig): RunIdentity<TrainConfig> {
  return {
    config,
    parse: parseTrainConfig,
    settings: ({ threads: _threads, evalBatchSize: _evalBatchSize, out: _out, patience: _patience, ...rest }) => rest,
    refusal: () => new XlmtError({
      code: 'RUN_SETTINGS_CHANGED', message: 'holds an unfinished run with other settings', where: { file: config.out }, received: join(config.out, 'config.json'),
      hint: 'resume with the same configuration or choose another --out',
    }),
  };
}

/** What online teachers add to a run: their inputs on each micro-batch, and the tasks they cover. */
export interface OnlineTeaching {
  readonly inputs?: BatchInputs;
  /** The tasks the transfer rows (`setup.transfer`) are drawn for. */
  readonly tasks: readonly string[];
}

/** The examples whose gold labels train: none with `goldLabels` off (their texts are then transfer rows). */
const goldExamples = (config: TrainConfig, setup: RunSetup): RunSetup['train']['examples'] => (config.goldLabels ? setup.train.examples : []);

export function classificationObjective(
  config: TrainConfig, setup: RunSetup, events: RunEvents, teaching?: OnlineTeaching,
): Objective<TrainConfig, DatasetEvaluation, ClassifierBatch> {
  const transfer = { count: setup.transfer.length, tasks: teaching?.tasks ?? [] };
  const members = taskMembers(goldExamples(config, setup), setup.teacher, setup.schema.tasks, transfer);
  const sampler: SamplerOptions = { batchSize: config.batchSize, sampling: config.sampling, temperature: config.temperature, seed: config.seed };
  const stepsPerEpoch = Math.ceil(planEpoch(members, 0, sampler).length / config.accumulation);
  const state = qatCheckpointState(setup.qat);
  return {
    identity: identityOf(config),
    size: { unit: 'epochs', totalSteps: stepsPerEpoch * config.epochs, stepsPerEpoch },
    training: setup.training,
    params: setup.params,
    ...(state ? { state } : {}),
    modelAt: 'epoch-end',
    finished: async (progress) => events.log(`${config.out} has finished already (step ${progress.step}); the best model is in ${join(config.out, 'best')}`),
    start: (progress) => startClassification(config, setup, events, members, sampler, progress, teaching?.inputs),
  };
}

async function startClassification(
  config: TrainConfig, setup: RunSetup, events: RunEvents, members: TaskMembers, sampler: SamplerOptions, from: RunProgress, batchInputs?: BatchInputs,
): Promise<ObjectiveRun<DatasetEvaluation, ClassifierBatch>> {
  const { dev, params } = setup;
  const gold = goldExamples(config, setup);
  const tasks = setup.schema.tasks;
  const teacherRows = setup.teacher.length > 0 ? ` and ${setup.teacher.length} teacher` : '';
  const transferRows = setup.transfer.length > 0 ? ` and ${setup.transfer.length} transfer` : '';
  events.log(`tokenizing ${gold.length} training${teacherRows}${transferRows}${dev ? ` and ${dev.examples.length} dev` : ''} examples (max length ${config.maxLength})`);
  const texts = [...gold.map((e) => e.text), ...setup.teacher.map((r) => r.text), ...setup.transfer];
  const encoded = await encodeExamples(setup.tokenizer, { examples: texts.map((text) => ({ text })) }, config.maxLength);
  if (encoded.truncated > 0) events.log(`${encoded.truncated} training texts were cut to ${config.maxLength} tokens`);
  const unlabeled = { labels: NO_LABELS };
  const rows: readonly TrainingTargets[] = [...gold, ...setup.teacher.map((r) => ({ labels: NO_LABELS, soft: r.soft })), ...setup.transfer.map(() => unlabeled)];
  const grouped: SamplerOptions = { ...sampler, lengths: encoded.ids.map((ids) => ids.length), groupWindow: config.groupWindow };
  const batchOptions = { padId: setup.padId, positions: setup.positions, charNgrams: setup.charNgrams }; // the predictor's graph has no n-gram inputs
  const evaluation = await devEvaluation(config, setup);
  const qat = setup.qat;
  const ranges = qat?.ranges;
  const feedsOf = async (indices: readonly number[]): Promise<Feeds> => {
    // Fed as the batch is planned, after the step before it was observed: the ranges of every step so far.
    const feeds = { ...trainingFeeds(rows, encoded, indices, tasks, batchOptions), ...ranges?.feeds() };
    if (!batchInputs) return feeds;
    const extra = await batchInputs({ texts: indices.map((i) => texts[i] as string), ids: indices.map((i) => encoded.ids[i] as Int32Array), maxLength: config.maxLength });
    return { ...feeds, ...extra };
  };

  // A new 'lsq' run's steps start from the first batches it will train on; a resumed run has them from its checkpoint.
  const fresh = from.step === 0 && from.epoch === 0 && from.batch === 0;
  if (qat?.calibration && fresh) {
    const first = planEpoch(members, 0, grouped).slice(0, CALIBRATION_BATCHES);
    const batches = (async function* () {
      for (const batch of first) yield await feedsOf(batch.examples);
    })();
    const observed = await calibrateSteps(qat.calibration, qat.layers, params, batches, config.threads);
    const spread = qat.layers.map((l) => observed.range(l) ?? 0);
    events.log(`learned input steps set from max|x| over ${first.length} training batches: ranges ${Math.min(...spread).toPrecision(3)} to ${Math.max(...spread).toPrecision(3)}`);
  }

  async function* plan(from: RunProgress): AsyncGenerator<PlanItem<ClassifierBatch>> {
    for (let epoch = from.epoch; epoch < config.epochs; epoch++) {
      const batches = planEpoch(members, epoch, grouped);
      for (let b = epoch === from.epoch ? from.batch : 0; b < batches.length; b += config.accumulation) {
        const group = batches.slice(b, b + config.accumulation);
        const feeds: Feeds[] = [];
        for (const batch of group) feeds.push(await feedsOf(batch.examples));
        const examples = group.reduce((s, batch) => s + batch.examples.length, 0);
        yield { kind: 'step', epoch, next: { epoch, batch: b + group.length }, feeds, batch: { examples }, last: false };
      }
      yield { kind: 'epoch-end', epoch, last: epoch + 1 >= config.epochs };
    }
  }

  let lossSum = 0;
  let lossSteps = 0;
  return {
    plan,
    stepped: ({ planned, report, step, totalSteps, note }) => {
      if (report && !report.skipped) {
        lossSum += report.loss;
        lossSteps++;
        // A skipped step changed no weight, and its maxima may not be finite: the ranges skip it too.
        for (const outputs of report.outputs) ranges?.observeOutputs(outputs);
      }
      events.onStep?.({ epoch: planned.epoch, step, totalSteps, loss: report?.loss ?? Number.NaN, lr: report?.lr ?? 0, examples: planned.batch.examples });
      if (note) events.log(note);
    },
    interval: (progress) => {
      const line = lossSteps > 0 ? { epoch: progress.epoch, step: progress.step, loss: lossSum / lossSteps } : null;
      lossSum = 0;
      lossSteps = 0;
      return line;
    },
    evaluation: evaluation?.evaluation ?? null,
    // A plain encoder, character n-grams folded into the word embeddings.
    model: () => (setup.charNgrams ? foldedParams(params, setup.charNgrams) : params),
    reached: (point) => reachedEpochEnd(config, setup, events, point, evaluation?.devFingerprint ?? null),
    release: async () => {
      await evaluation?.release();
    },
  };
}

interface DevEvaluation {
  readonly evaluation: Evaluation<DatasetEvaluation>;
  /** Recorded with the best model, so that `xlmt eval` on this same file can say its thresholds were tuned there. */
  readonly devFingerprint: DataFingerprint;
  release(): Promise<void>;
}

/** Mean macro-F1 on dev, with the multilabel thresholds tuned there. */
async function devEvaluation(config: TrainConfig, setup: RunSetup): Promise<DevEvaluation | null> {
  const { dev } = setup;
  if (!dev) return null;
  const tasks = setup.schema.tasks;
  const encoded: EncodedExamples = await encodeExamples(setup.tokenizer, dev, config.maxLength);
  const devFingerprint = await fingerprintFile(dev.file);
  // A QAT run scores the fake-quantized model, with the ranges of the moment: what int8 would serve.
  const qat = setup.qat;
  const quantized = qat ? { quantized: { options: qat.options, ...(qat.ranges ? { ranges: () => qat.ranges?.feeds() ?? {} } : {}) } } : {};
  const predictor = await Predictor.create(setup.hf.encoder, tasks, {
    padId: setup.padId, positions: setup.positions, pooling: config.pooling, headStyle: config.headStyle, threads: config.threads, batchSize: config.evalBatchSize,
    ...quantized,
  });
  return {
    devFingerprint,
    evaluation: {
      run: (model) => evaluateDataset((indices) => predictor.predict(encoded, indices, model), dev, tasks, { tune: true }),
      metric: (e, progress) => ({ epoch: progress.epoch, step: progress.step, meanMacroF1: e.summary.meanMacroF1, tasks: e.summary.tasks, thresholds: e.thresholds }),
      score: (e) => e.summary.meanMacroF1,
      measures: 'dev macro-F1',
    },
    release: () => predictor.release(),
  };
}

/** Writes best/ when the epoch is the best so far (every epoch without dev), and reports the evaluation. */
async function reachedEpochEnd(config: TrainConfig, setup: RunSetup, events: RunEvents, point: ModelPoint<DatasetEvaluation>, devFingerprint: DataFingerprint | null): Promise<void> {
  const info = { epoch: point.progress.epoch, step: point.progress.step };
  const save = (model: ParamStore, thresholds: Record<string, number[]>, recorded: Record<string, unknown>): Promise<void> =>
    saveModelDir(join(config.out, 'best'), {
      hf: setup.hf, params: withoutSteps(setup.qat, model), tokenizer: setup.tokenizer, schema: setup.schema,
      meta: {
        format: 'xlmt-model', version: 1, pooling: config.pooling, headStyle: config.headStyle, maxLength: config.maxLength, padId: setup.padId, positions: setup.positions, thresholds,
        ...(setup.qat ? { quantization: quantizationSection(setup.qat, model) } : {}),
        info: recorded,
      },
    });
  const scores = point.scores;
  if (!scores) {
    if (point.keep) await save(point.model, {}, info);
    return;
  }
  const score = scores.summary.meanMacroF1;
  if (point.keep) await save(point.model, scores.thresholds, { ...info, devMeanMacroF1: score, dev: scores.summary.tasks, thresholdsTunedOn: devFingerprint });
  events.onEval?.({ ...info, evaluation: scores, improved: point.keep, previousBest: point.previousBest });
}

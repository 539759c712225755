// Evaluates saved models on a labeled file; across several runs (seeds), mean and 95% interval per task and
// language, and the relative degradation against reference runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from '../checkpoint/index.ts';
import { XlmtError } from '../errors/index.ts';
import { ONNX_DIR, ONNX_FILE } from '../infer/contract.ts';
import { loadDataset, loadTaskSchema } from '../data/index.ts';
import { gatherRows } from '../infer/batching.ts';
import { OnnxClassifier } from '../infer/onnx-classifier.ts';
import { degradation, summarizeRuns, type Degradation, type RunSummary, type TaskReport } from '../eval/index.ts';
import type { DatasetEvaluation } from './evaluate.ts';
import { evaluateDataset, recordedFingerprint } from './evaluate.ts';
import { encodeExamples } from './examples.ts';
import { MODEL_META_FILE, TASKS_FILE } from '../model-dir/index.ts';
import { loadModelDir } from './model-dir.ts';
import { Predictor } from './predict.ts';

// A run's best model (RUN/best) is the one taken; model directories come from xlmt train and xlmt import.
const WANTED = `a run directory of xlmt train, or a model directory with ${MODEL_META_FILE} and ${WEIGHTS_FILE}`;

/**
 * A model directory, or a run directory whose best model is taken. Export directories (onnx/model.onnx, no
 * weights) and anything else are refused as NOT_A_MODEL, saying which command takes them.
 */
export function resolveModelDir(path: string, flag = '--model'): string {
  if (!existsSync(path)) {
    throw new XlmtError({ code: 'FILE_NOT_FOUND', where: { file: path, field: flag }, message: 'no such directory', expected: WANTED });
  }
  for (const dir of [path, join(path, 'best')]) {
    if (!existsSync(join(dir, MODEL_META_FILE))) continue;
    if (isExport(dir)) throw exportGiven(path, dir, flag);
    return dir;
  }
  throw new XlmtError({
    code: 'NOT_A_MODEL',
    where: { file: path, field: flag },
    message: 'neither a model directory nor a run directory',
    expected: WANTED,
    received: `no ${MODEL_META_FILE} and no best/${MODEL_META_FILE}`,
    hint: 'baselines (xlmt baseline train) are evaluated with xlmt baseline eval',
  });
}

/** What xlmt export writes: xlmt.json beside onnx/model.onnx, and no trainable weights. */
export function isExport(dir: string): boolean {
  return existsSync(join(dir, ONNX_DIR, ONNX_FILE)) && !existsSync(join(dir, WEIGHTS_FILE)) && !existsSync(join(dir, WEIGHTS_INDEX_FILE));
}

function exportGiven(path: string, dir: string, flag: string): XlmtError {
  const from = exportedFrom(dir);
  const source = from === undefined ? 'give the run or model directory it was exported from' : `give the model it was exported from, ${flag} ${from}`;
  return new XlmtError({
    code: 'NOT_A_MODEL',
    where: { file: path, field: flag },
    message: `an export directory (${ONNX_DIR}/${ONNX_FILE}, no ${WEIGHTS_FILE}), not a trained model`,
    expected: WANTED,
    hint: `${source}; to score texts with the export itself, use xlmt predict --model ${path} --in FILE --out FILE (or xlmt serve)`,
    details: { export: dir, ...(from === undefined ? {} : { exportedFrom: from }) },
  });
}

/** `info.export.from` of an export's xlmt.json, when readable. */
function exportedFrom(dir: string): string | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, MODEL_META_FILE), 'utf8')) as { info?: { export?: { from?: unknown } } };
    const from = meta.info?.export?.from;
    return typeof from === 'string' ? from : undefined;
  } catch {
    return undefined;
  }
}

export interface ModelEvaluation extends DatasetEvaluation {
  readonly model: string;
}

/**
 * Scores on a labeled file: of a model or run directory, or of an export (its own ONNX graph, fp32 or int8, as
 * `xlmt serve` would run it), with the thresholds each carries.
 */
export async function evaluateModel(path: string, dataFile: string, threads: number, batchSize = 64): Promise<ModelEvaluation> {
  if (existsSync(path) && isExport(path)) return evaluateExport(path, dataFile, threads, batchSize);
  const dir = resolveModelDir(path);
  const model = await loadModelDir(dir);
  const data = await loadDataset(dataFile, { schema: model.schema });
  const encoded = await encodeExamples(model.tokenizer, data, model.meta.maxLength);
  const predictor = await Predictor.create(model.hf.encoder, model.schema.tasks, {
    padId: model.meta.padId, positions: model.meta.positions, pooling: model.meta.pooling, headStyle: model.meta.headStyle, threads, batchSize,
  });
  try {
    const evaluation = await evaluateDataset((indices) => predictor.predict(encoded, indices, model.params), data, model.schema.tasks, { tune: false, thresholds: model.meta.thresholds, tunedOn: recordedFingerprint(model.meta.info) });
    return { model: dir, ...evaluation };
  } finally {
    await predictor.release();
  }
}

async function evaluateExport(dir: string, dataFile: string, threads: number, batchSize: number): Promise<ModelEvaluation> {
  const classifier = await OnnxClassifier.load(dir, { threads, batchSize });
  try {
    const schema = await loadTaskSchema(join(dir, TASKS_FILE));
    const data = await loadDataset(dataFile, { schema });
    const { ids } = await classifier.encode(data.examples.map((e) => e.text));
    const probs = await classifier.probabilities(ids);
    const evaluation = await evaluateDataset(async (indices) => gatherRows(probs, indices, classifier.tasks), data, schema.tasks, {
      tune: false, thresholds: classifier.meta.thresholds, tunedOn: recordedFingerprint(classifier.meta.info),
    });
    return { model: dir, ...evaluation };
  } finally {
    await classifier.release();
  }
}

export interface ScoreAcrossRuns {
  readonly task: string;
  /** null for the task as a whole. */
  readonly lang: string | null;
  readonly runs: number[];
  readonly summary: RunSummary;
  /**
   * Against the reference runs, when given and the cell exists there; null too where the reference scores 0 in
   * every run (a relative change from 0 is undefined).
   */
  readonly degradation: Degradation | null;
  /** The reference runs' mean for this cell, when given and the cell exists there. */
  readonly reference: number | null;
}

function cells(evaluations: readonly ModelEvaluation[]): Map<string, number[]> {
  const byCell = new Map<string, number[]>();
  const add = (key: string, value: number): void => {
    byCell.set(key, [...(byCell.get(key) ?? []), value]);
  };
  for (const e of evaluations) {
    for (const r of e.reports as TaskReport[]) {
      add(`${r.task}\u0000`, r.macroF1);
      for (const l of r.perLanguage) add(`${r.task}\u0000${l.lang}`, l.macroF1);
    }
  }
  return byCell;
}

/** Macro-F1 per task and per task × language over runs, with intervals and degradation against `reference`. */
export function acrossRuns(evaluations: readonly ModelEvaluation[], reference: readonly ModelEvaluation[] = []): ScoreAcrossRuns[] {
  const ours = cells(evaluations);
  const theirs = cells(reference);
  return [...ours].map(([key, runs]) => {
    const [task, lang] = key.split('\u0000') as [string, string];
    const ref = theirs.get(key);
    return {
      task,
      lang: lang === '' ? null : lang,
      runs,
      summary: summarizeRuns(runs),
      degradation: ref && ref.some((x) => x !== 0) ? degradation(ref, runs) : null,
      reference: ref ? ref.reduce((a, b) => a + b, 0) / ref.length : null,
    };
  });
}

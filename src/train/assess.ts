// Evaluates saved models on a labeled file; across several runs (seeds), mean and 95% interval per task and
// language, and the relative degradation against reference runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../data/index.ts';
import { degradation, summarizeRuns, type Degradation, type RunSummary, type TaskReport } from '../eval/index.ts';
import type { DatasetEvaluation } from './evaluate.ts';
import { evaluateDataset } from './evaluate.ts';
import { encodeExamples } from './examples.ts';
import { loadModelDir, MODEL_META_FILE } from './model-dir.ts';
import { Predictor } from './predict.ts';

/** A model directory, or a run directory whose best model is taken. */
export function resolveModelDir(path: string): string {
  if (existsSync(join(path, MODEL_META_FILE))) return path;
  if (existsSync(join(path, 'best', MODEL_META_FILE))) return join(path, 'best');
  throw new Error(`${path} is neither a model directory (with ${MODEL_META_FILE}) nor a run directory with best/${MODEL_META_FILE}`);
}

export interface ModelEvaluation extends DatasetEvaluation {
  readonly model: string;
}

export async function evaluateModel(path: string, dataFile: string, threads: number, batchSize = 64): Promise<ModelEvaluation> {
  const dir = resolveModelDir(path);
  const model = await loadModelDir(dir);
  const data = await loadDataset(dataFile, { schema: model.schema });
  const encoded = await encodeExamples(model.tokenizer, data, model.meta.maxLength);
  const predictor = await Predictor.create(model.hf.encoder, model.schema.tasks, {
    padId: model.meta.padId, positions: model.meta.positions, pooling: model.meta.pooling, headStyle: model.meta.headStyle, threads, batchSize,
  });
  try {
    const evaluation = await evaluateDataset((indices) => predictor.predict(encoded, indices, model.params), data, model.schema.tasks, { tune: false, thresholds: model.meta.thresholds });
    return { model: dir, ...evaluation };
  } finally {
    await predictor.release();
  }
}

export interface ScoreAcrossRuns {
  readonly task: string;
  /** null for the task as a whole. */
  readonly lang: string | null;
  readonly runs: number[];
  readonly summary: RunSummary;
  /** Against the reference runs, when given and the cell exists there. */
  readonly degradation: Degradation | null;
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
      degradation: ref ? degradation(ref, runs) : null,
    };
  });
}

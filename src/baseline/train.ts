// `xlmt baseline train` as a function: loads the data, fits every task, tunes multilabel thresholds on dev,
// evaluates dev as `xlmt eval` reports it, and saves the model directory.
import { loadDataset, loadTaskSchema, type Dataset } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { evaluateDataset, fingerprintFile, type DataFingerprint, type DatasetEvaluation } from '../train/evaluate.ts';
import { checkFeatureSettings, FeatureHasher } from './features.ts';
import { fitTask, type FitProgress, type FitReport } from './fit.ts';
import { BaselineModel, type BaselineSettings, type BaselineTask } from './model.ts';
import { checkOutputDir, inputsOf, type OutputSpec } from '../util/output-dir.ts';
import { saveBaseline } from './model-dir.ts';
import { foldOf, scoreOutOfFold } from './folds.ts';
import { type Csr, hashedCounts } from './sparse.ts';

export interface BaselineTrainJob {
  readonly train: string;
  /** Without dev, multilabel thresholds stay 0.5 and nothing is evaluated. */
  readonly dev?: string;
  /** tasks.json; inferred from the training data when omitted. */
  readonly tasks?: string;
  readonly out: string;
  readonly settings: BaselineSettings;
  /** Out-of-fold models besides the full one (folds.ts): K ≥ 2 more fits; absent: none. */
  readonly folds?: number;
}

export interface BaselineTrainEvents {
  onTaskStart?(task: string, rows: number): void;
  onIteration?(task: string, p: FitProgress): void;
  onTaskEnd?(task: string, report: FitReport): void;
}

export interface BaselineTrainResult {
  readonly model: BaselineModel;
  /** Dev evaluation at the saved thresholds; null without dev. */
  readonly evaluation: DatasetEvaluation | null;
  /** Tasks of the schema with no labeled dev row (not evaluated, thresholds 0.5). */
  readonly unevaluated: string[];
  /**
   * With folds: the training rows, each scored by its fold's model (not fitted on it), at the saved thresholds: the
   * fit's cross-validated quality, and what the baseline teaches on these rows. Null without folds.
   */
  readonly outOfFold: DatasetEvaluation | null;
}

export async function trainBaseline(job: BaselineTrainJob, events: BaselineTrainEvents = {}): Promise<BaselineTrainResult> {
  checkFeatureSettings(job.settings.features, { api: 'trainBaseline' });
  if (job.folds !== undefined && !(Number.isInteger(job.folds) && job.folds >= 2)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--folds' }, message: 'out-of-fold models need at least two folds', expected: 'an integer ≥ 2', received: String(job.folds) });
  }
  const output: OutputSpec = { command: 'baseline train', path: job.out, inputs: inputsOf({ '--train': job.train, '--dev': job.dev, '--tasks': job.tasks }) };
  checkOutputDir(output);
  const schema = job.tasks === undefined ? undefined : await loadTaskSchema(job.tasks);
  const train = await loadDataset(job.train, schema ? { schema } : {});
  const dev = job.dev === undefined ? null : await loadDataset(job.dev, { schema: train.schema });
  const counts = hashedCounts(train.examples.map((e) => e.text), new FeatureHasher(job.settings.features));

  const tasks: BaselineTask[] = [];
  for (const task of train.schema.tasks) {
    const rows = labeledRows(train, task.name);
    if (rows.length === 0) {
      throw new XlmtError({ code: 'NO_LABELED_EXAMPLES', where: { file: job.train, task: task.name }, message: 'no row is labeled for the task, so it cannot be fitted', hint: `Label some rows for it, or remove it from ${job.tasks ?? 'the task schema'}` });
    }
    events.onTaskStart?.(task.name, rows.length);
    const { head, report } = fitTask(task, train.examples, counts, rows, job.settings.fit, (p) => events.onIteration?.(task.name, p));
    events.onTaskEnd?.(task.name, report);
    tasks.push({ task, head, thresholds: task.type === 'multilabel' ? task.labels.map(() => 0.5) : null, report });
  }

  const folds = job.folds === undefined ? [] : fitFolds(job.folds, train, counts, job, events);
  const foldModels = folds.map((foldTasks) => new BaselineModel(job.settings, train.schema, foldTasks));
  let model = new BaselineModel(job.settings, train.schema, tasks);
  let evaluation: DatasetEvaluation | null = null;
  const unevaluated = dev === null ? [] : train.schema.tasks.filter((t) => labeledRows(dev, t.name).length === 0).map((t) => t.name);
  if (dev !== null && unevaluated.length < train.schema.tasks.length) {
    evaluation = await evaluateBaseline(model, dev, 'tune');
    model = model.withThresholds(evaluation.thresholds);
  }
  const thresholdsTunedOn = evaluation && dev ? await fingerprintFile(dev.file) : null;
  const outOfFold = foldModels.length === 0 ? null : await evaluateBaseline(model, train, 'model', thresholdsTunedOn, foldModels);
  const info = {
    train: job.train,
    dev: job.dev ?? null,
    thresholdsTunedOn,
    ...(evaluation ? { devMacroF1: macroF1ByTask(evaluation) } : {}),
    ...(outOfFold ? { outOfFoldMacroF1: macroF1ByTask(outOfFold) } : {}),
  };
  await saveBaseline(output, model, info, folds);
  return { model, evaluation, unevaluated, outOfFold };
}

/** Fold k's fit of every task on the rows labeled for it whose text is not in fold k (folds.ts). */
function fitFolds(count: number, train: Dataset, counts: Csr, job: BaselineTrainJob, events: BaselineTrainEvents): BaselineTask[][] {
  const fold = train.examples.map((e) => foldOf(e.text, count));
  return Array.from({ length: count }, (_, k) => train.schema.tasks.map((task) => {
    const rows = labeledRows(train, task.name).filter((i) => fold[i] !== k);
    if (rows.length === 0) {
      throw new XlmtError({
        code: 'NO_LABELED_EXAMPLES', where: { file: job.train, task: task.name, field: '--folds' },
        message: `every row labeled for the task is in fold ${k + 1} of ${count}, so fold ${k + 1}'s model has nothing to fit`, hint: 'use fewer folds, or label more rows',
      });
    }
    const name = `${task.name} (fold ${k + 1}/${count})`;
    events.onTaskStart?.(name, rows.length);
    const { head, report } = fitTask(task, train.examples, counts, rows, job.settings.fit, (p) => events.onIteration?.(name, p));
    events.onTaskEnd?.(name, report);
    return { task, head, thresholds: task.type === 'multilabel' ? task.labels.map(() => 0.5) : null, report };
  }));
}

/**
 * Scores the tasks each row of `data` is labeled for and reports them as `xlmt eval` does: with multilabel
 * thresholds tuned on these rows ('tune', for dev) or the model's own ('model'), tuned on the file `tunedOn`
 * records (baseline.json's info.thresholdsTunedOn) when known. Given out-of-fold models (`folds`, fold k's at k),
 * each row is scored by its fold's model instead of `model`, at `model`'s thresholds.
 */
export async function evaluateBaseline(model: BaselineModel, data: Dataset, thresholds: 'tune' | 'model', tunedOn: DataFingerprint | null = null, folds: readonly BaselineModel[] = []): Promise<DatasetEvaluation> {
  const saved = Object.fromEntries(model.tasks.flatMap((t) => (t.thresholds ? [[t.task.name, [...t.thresholds]]] : [])));
  return evaluateDataset(async (indices) => {
    const texts = indices.map((i) => data.examples[i]!.text);
    if (folds.length > 0) return scoreOutOfFold(folds, texts, 'probabilities');
    const counts = model.counts(texts);
    return new Map(model.tasks.map((t) => [t.task.name, model.score(counts, t.task.name)]));
  }, data, model.schema.tasks, thresholds === 'tune' ? { tune: true } : { tune: false, thresholds: saved, tunedOn });
}

function macroF1ByTask(evaluation: DatasetEvaluation): Record<string, number> {
  return Object.fromEntries(evaluation.summary.tasks.map((t) => [t.task, t.macroF1]));
}

function labeledRows(data: Dataset, task: string): Int32Array {
  const rows: number[] = [];
  data.examples.forEach((e, i) => {
    if (e.labels.has(task)) rows.push(i);
  });
  return Int32Array.from(rows);
}

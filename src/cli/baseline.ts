// `xlmt baseline train | predict | eval`: a classical reference per task (character and word n-gram tf-idf with
// logistic regression), saved, scored and evaluated like the encoder models, and a cheap teacher for distillation.
import { Command } from 'commander';
import { DEFAULT_FEATURES } from '../baseline/features.ts';
import { DEFAULT_FIT, type FitReport } from '../baseline/fit.ts';
import { loadBaseline } from '../baseline/model-dir.ts';
import { predictBaselineFile, type BaselinePredictSummary } from '../baseline/predict-file.ts';
import { evaluateBaseline, trainBaseline, type BaselineTrainEvents } from '../baseline/train.ts';
import { loadDataset } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { formatScore } from '../eval/index.ts';
import { recordedFingerprint, type DatasetEvaluation } from '../train/evaluate.ts';
import { evaluationText } from './eval.ts';
import { addScoringFileOptions, scoringFile, type ScoringFileFlags } from './predict.ts';
import { intRange, positiveInt, positiveNumber } from './options.ts';

interface TrainFlags {
  train: string;
  dev?: string;
  tasks?: string;
  out: string;
  folds?: number;
  c: number;
  iterations: number;
  charNgrams: { min: number; max: number };
  wordNgrams: { min: number; max: number };
  json: boolean;
  quiet: boolean;
}

interface PredictFlags extends ScoringFileFlags {
  model: string;
  skipLabeled: boolean;
  quiet: boolean;
}

interface EvalFlags {
  model: string;
  data: string;
  outOfFold: boolean;
  json: boolean;
}

export function baselineCommand(): Command {
  return new Command('baseline')
    .description('a classical reference per task: character and word n-gram tf-idf with logistic regression (also a cheap teacher)')
    .addCommand(trainCommand())
    .addCommand(predictCommand())
    .addCommand(evalCommand());
}

function trainCommand(): Command {
  return new Command('train')
    .description('fit one tf-idf logistic regression per task; tune multilabel thresholds and report on dev')
    .requiredOption('--train <file>', 'labeled training data (JSONL, CSV, TSV)')
    .option('--dev <file>', 'labeled dev data: multilabel thresholds are tuned and the model evaluated on it (without: thresholds 0.5)')
    .option('--tasks <file>', 'task schema (tasks.json); inferred from the training data when omitted')
    .requiredOption('--out <dir>', 'model directory to write (replaced whole if it holds an earlier baseline)')
    .option('--c <x>', 'inverse L2 regularization strength C: objective Σ cross-entropy + ‖W‖²/(2C)', positiveNumber('--c'), DEFAULT_FIT.c)
    .option('--iterations <n>', 'L-BFGS iterations at most, per task', positiveInt('--iterations'), DEFAULT_FIT.iterations)
    .option('--char-ngrams <min-max>', 'character n-gram lengths', intRange('--char-ngrams'), DEFAULT_FEATURES.charNgrams)
    .option('--word-ngrams <min-max>', 'word n-gram lengths', intRange('--word-ngrams'), DEFAULT_FEATURES.wordNgrams)
    .option('--folds <k>', 'also fit K out-of-fold models (each on the rows whose text is not in its fold): as an online teacher, a text is scored by the model not fitted on it', positiveInt('--folds'))
    .option('--json', 'print the dev evaluation as one JSON object', false)
    .option('--quiet', 'no progress lines', false)
    .action(async (flags: TrainFlags) => {
      const settings = {
        features: { charNgrams: flags.charNgrams, wordNgrams: flags.wordNgrams, buckets: DEFAULT_FEATURES.buckets },
        fit: { c: flags.c, iterations: flags.iterations },
      };
      const fits: Record<string, FitReport> = {};
      const events = progressEvents(flags.quiet, flags.iterations);
      const result = await trainBaseline({
        train: flags.train,
        out: flags.out,
        settings,
        ...(flags.dev !== undefined ? { dev: flags.dev } : {}),
        ...(flags.tasks !== undefined ? { tasks: flags.tasks } : {}),
        ...(flags.folds !== undefined ? { folds: flags.folds } : {}),
      }, { ...events, onTaskEnd: (task, report) => { fits[task] = report; events.onTaskEnd?.(task, report); } });
      const { evaluation, unevaluated, outOfFold } = result;
      if (flags.json) {
        const models = evaluation ? [{ model: flags.out, ...evaluation }] : [];
        console.log(JSON.stringify({ data: flags.dev ?? null, models, references: [], acrossRuns: null, fit: fits, unevaluated, ...(outOfFold ? { outOfFold } : {}) }, null, 2));
        return;
      }
      if (evaluation) console.log(evaluationText(`${flags.out} on ${flags.dev}`, evaluation));
      if (outOfFold) console.log(`${outOfFoldLine(flags.train, flags.folds ?? 0, outOfFold)}\n`);
      if (unevaluated.length > 0 && flags.dev !== undefined) console.log(`not evaluated (no labeled row in ${flags.dev}): ${unevaluated.join(', ')}; their multilabel thresholds stay 0.5\n`);
      console.log(`model in ${flags.out}${flags.dev === undefined ? ' (no dev set: multilabel thresholds 0.5, nothing evaluated)' : ''}`);
    });
}

function predictCommand(): Command {
  const command = new Command('predict')
    .description('score every row of a JSONL, CSV or TSV file, writing xlmt predict\'s layout (a teacher file for xlmt train --teacher)')
    .requiredOption('--model <dir>', 'baseline directory written by xlmt baseline train');
  return addScoringFileOptions(command)
    .option('--skip-labeled', 'leave out the tasks a row already has a gold label for, and rows labeled for all of them', false)
    .option('--quiet', 'no progress lines', false)
    .action(async (flags: PredictFlags) => {
      const file = scoringFile(flags);
      const { model } = await loadBaseline(flags.model);
      let last = performance.now();
      const summary = await predictBaselineFile(model, { ...file, modelDir: flags.model, skipLabeled: flags.skipLabeled }, {
        onChunk: (rows) => {
          if (flags.quiet || performance.now() - last < 10_000) return;
          last = performance.now();
          process.stderr.write(`${rows.toLocaleString('en-US')} rows scored\n`);
        },
      });
      console.log(predictSummaryText(summary, flags.skipLabeled));
    });
}

function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a saved baseline on a labeled file, reported as xlmt eval reports')
    .requiredOption('--model <dir>', 'baseline directory written by xlmt baseline train')
    .requiredOption('--data <file>', 'labeled data (JSONL, CSV, TSV) with the model\'s tasks')
    .option('--out-of-fold', 'score each row with the out-of-fold model of its text (a baseline trained with --folds): on the training file, the cross-validated quality', false)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: EvalFlags) => {
      const { model, info, folds } = await loadBaseline(flags.model);
      if (flags.outOfFold && folds.length === 0) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--out-of-fold' }, message: `${flags.model} has no out-of-fold models`, hint: 'Train the baseline with --folds K to have them' });
      }
      const data = await loadDataset(flags.data, { schema: model.schema });
      const evaluation = await evaluateBaseline(model, data, 'model', recordedFingerprint(info), flags.outOfFold ? folds : []);
      if (flags.json) {
        console.log(JSON.stringify({ data: flags.data, models: [{ model: flags.model, ...evaluation }], references: [], acrossRuns: null }, null, 2));
        return;
      }
      console.log(evaluationText(flags.outOfFold ? `${flags.model}, out of fold (${folds.length} folds)` : flags.model, evaluation));
    });
}

/** The cross-validated figures `baseline train --folds` prints: one number a task, where the full report is. */
function outOfFoldLine(train: string, folds: number, e: DatasetEvaluation): string {
  const tasks = e.summary.tasks.map((t) => `${t.task} ${formatScore(t.macroF1)}`).join(', ');
  return `out of fold on ${train} (${folds} folds, each row scored by the model not fitted on it): mean macro-F1 ${formatScore(e.summary.meanMacroF1)} (${tasks}); per language: xlmt baseline eval --out-of-fold`;
}

function progressEvents(quiet: boolean, iterations: number): BaselineTrainEvents {
  if (quiet) return {};
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  let last = 0;
  return {
    onTaskStart: (task, rows) => {
      last = performance.now();
      say(`${task}: fitting on ${rows.toLocaleString('en-US')} rows`);
    },
    onIteration: (task, p) => {
      if (performance.now() - last < 10_000) return;
      last = performance.now();
      say(`${task}: iteration ${p.iteration}/${iterations}, loss ${p.value.toFixed(4)}`);
    },
    onTaskEnd: (task, r) => {
      const stop = r.stop === 'max-iterations' ? 'the iteration limit' : r.stop === 'gradient' ? 'a vanishing gradient' : r.stop === 'no-progress' ? 'no further progress' : 'a failed line search';
      say(`${task}: ${r.iterations} iterations (stopped at ${stop}), loss ${r.loss.toFixed(4)}, ${r.features.toLocaleString('en-US')} features, ${r.seconds.toFixed(1)} s`);
    },
  };
}

function predictSummaryText(s: BaselinePredictSummary, skipLabeled: boolean): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const skipped = skipLabeled ? `, ${n(s.rowsFullyLabeled)} left out (labeled for every task)` : '';
  const perTask = Object.entries(s.predictions).map(([task, count]) => `${task} ${n(count)}`).join(', ');
  return [
    `read ${n(s.rowsRead)} rows: ${n(s.rowsWritten)} written → ${s.output}${skipped}`,
    `predictions per task: ${perTask}; ${s.seconds.toFixed(1)} s`,
  ].join('\n');
}


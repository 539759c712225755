// `xlmt eval`: macro-F1 per task, language and label of saved models on a labeled file.
import { Command } from 'commander';
import { formatScore, type MultiTaskSummary, taskLanguageTable, type TaskReport, type ThresholdSource } from '../eval/index.ts';
import { acrossRuns, evaluateModel, type ModelEvaluation, type ScoreAcrossRuns } from '../train/assess.ts';
import { collect, positiveInt } from './options.ts';

interface EvalFlags {
  model: string[];
  data: string;
  reference?: string[];
  threads: number;
  json: boolean;
}

/** The heading, task × language table and per-task reports of one model's evaluation. */
export function evaluationText(name: string, e: { readonly summary: MultiTaskSummary; readonly reports: readonly TaskReport[] }): string {
  const parts = [`## ${name}: mean macro-F1 ${formatScore(e.summary.meanMacroF1)}\n`, `${taskLanguageTable(e.reports)}\n`];
  for (const r of e.reports) parts.push(`${reportText(r)}\n`);
  return parts.join('\n');
}

/** One task's report: per-label precision, recall and F1, the confusion matrix, the tuned thresholds. */
export function reportText(r: TaskReport): string {
  const lines = [`### ${r.task} (${r.type}, ${r.n} examples): macro-F1 ${formatScore(r.macroF1)}`, '', '| label | precision | recall | F1 | support |', '|---|---|---|---|---|'];
  for (const l of r.perLabel) lines.push(`| ${l.label} | ${formatScore(l.precision)} | ${formatScore(l.recall)} | ${formatScore(l.f1)} | ${l.support} |`);
  if (r.confusion) {
    lines.push('', `confusion (rows: gold, columns: predicted)`, '', `| | ${r.confusion.labels.join(' | ')} |`, `|---|${r.confusion.labels.map(() => '---').join('|')}|`);
    r.confusion.counts.forEach((row, i) => lines.push(`| ${r.confusion?.labels[i]} | ${row.join(' | ')} |`));
  }
  if (r.thresholds) lines.push('', `thresholds: ${r.thresholds.map((t) => t.toFixed(3)).join(', ')}${r.thresholdSource ? ` ${sourceText(r.thresholdSource)}` : ''}`);
  return lines.join('\n');
}

/** Where the thresholds came from; tuned on the examples scored, the scores are optimistic and the text says so. */
export function sourceText(s: ThresholdSource): string {
  const optimistic = 'so these multilabel scores are optimistic; held-out data gives unbiased ones';
  if (s.kind === 'tuned') return `(tuned on these same examples, ${optimistic})`;
  if (s.kind === 'default') return '(the default, not tuned)';
  if (s.optimistic) return `(tuned at training on ${s.tunedOn ?? 'this data'}, which is this same file, ${optimistic})`;
  if (s.tunedOn !== null) return `(tuned at training on ${s.tunedOn}, not on this file)`;
  return '(stored with the model; where they were tuned is not recorded: if it was this file, these multilabel scores are optimistic)';
}

function acrossText(scores: readonly ScoreAcrossRuns[]): string {
  const lines = ['| task | language | runs | macro-F1 mean ± 95% CI | % below the reference (negative: above) |', '|---|---|---|---|---|'];
  for (const s of scores) {
    const ci = s.summary.ci ? ` ± ${formatScore(s.summary.ci.halfWidth)}` : '';
    const d = s.degradation ? `${s.degradation.estimate.toFixed(1)}${s.degradation.ci ? ` ± ${s.degradation.ci.halfWidth.toFixed(1)}` : ''}` : s.reference === 0 ? 'undefined (reference 0)' : '';
    lines.push(`| ${s.task} | ${s.lang ?? 'all'} | ${s.runs.length} | ${formatScore(s.summary.mean)}${ci} | ${d} |`);
  }
  return lines.join('\n');
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate models (run or model directories, or exports, fp32 or int8, through their own graphs) on a labeled file')
    .requiredOption('--model <dir>', 'run or model directory of xlmt train or import, or an export directory of xlmt export; repeat for several runs (seeds)', collect)
    .requiredOption('--data <file>', 'labeled data (JSONL, CSV, TSV) with the models\' tasks')
    .option('--reference <dir>', 'reference run(s) or export(s) for relative degradation; repeat for several seeds', collect)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: EvalFlags) => {
      const evaluations: ModelEvaluation[] = [];
      for (const m of flags.model) evaluations.push(await evaluateModel(m, flags.data, flags.threads));
      const references: ModelEvaluation[] = [];
      for (const m of flags.reference ?? []) references.push(await evaluateModel(m, flags.data, flags.threads));
      const across = evaluations.length > 1 || references.length > 0 ? acrossRuns(evaluations, references) : null;
      if (flags.json) {
        console.log(JSON.stringify({ data: flags.data, models: evaluations, references, acrossRuns: across }, null, 2));
        return;
      }
      for (const e of evaluations) console.log(evaluationText(e.model, e));
      if (across) console.log(`## across ${evaluations.length} runs${references.length > 0 ? `, against ${references.length} reference runs` : ''}\n\n${acrossText(across)}`);
    });
}

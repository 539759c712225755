// What `xlmt distill` reports: each stage's dev scores per task and language (OUT/reports/<stage>.md), and one
// summary of every stage (OUT/report.md): what it trained, how long, its dev mean macro-F1, and whether it was kept.
import { formatScore, taskLanguageTable, type TaskReport } from '../../../eval/index.ts';
import type { DistillConfig, StageName } from './config.ts';

export interface StageResult {
  readonly name: string;
  readonly stage: StageName;
  readonly trains: string;
  /** Its run directory, and the model it wrote (RUN/best). */
  readonly run: string;
  readonly model: string;
  /** The model it started from. */
  readonly from: string;
  readonly steps: number;
  readonly epochs: number;
  readonly stoppedEarly: boolean;
  /** Of its model on the dev set, with the thresholds stored in it. */
  readonly devMeanMacroF1: number;
  readonly tasks: readonly { readonly task: string; readonly macroF1: number }[];
  /** False when its dev score fell below that of the model it started from: the next stage starts from that one. */
  readonly kept: boolean;
  readonly rolledBackTo?: string;
  /** Wall time of the call that finished it (training and the dev report). */
  readonly seconds: number;
}

const minutes = (seconds: number): string => `${(seconds / 60).toFixed(1)} min`;

function outcome(r: StageResult): string {
  if (r.kept) return 'kept';
  return `rolled back to ${r.rolledBackTo ?? 'the model before it'}`;
}

export function stageReportText(r: StageResult, reports: readonly TaskReport[]): string {
  const headsNote = r.stage === 'representation' ? '\n\nThe heads do not learn in this stage (its loss is on the hidden states): its dev scores are those of the heads it started with.\n' : '\n';
  return [
    `# Stage ${r.name}: dev mean macro-F1 ${formatScore(r.devMeanMacroF1)} (${outcome(r)})`,
    '',
    `Trained ${r.trains}, from ${r.from}: ${r.steps} steps, ${r.epochs} epochs${r.stoppedEarly ? ' (stopped early)' : ''}, ${minutes(r.seconds)}. Model: ${r.model}.${headsNote}`,
    taskLanguageTable(reports),
    '',
  ].join('\n');
}

export function summaryText(config: DistillConfig, results: readonly StageResult[], model: string): string {
  const tasks = results[0]?.tasks.map((t) => t.task) ?? [];
  const lines = [
    `# Distillation into ${config.student}`,
    '',
    `Teachers: ${config.teacherModel.join('; ')}. Training data: ${config.train}${config.transfer ? `; transfer texts: ${config.transfer.join(', ')}` : ''}. Dev: ${config.dev}.`,
    '',
    `| stage | trains | steps | epochs | time | dev mean macro-F1 | ${tasks.join(' | ')} | outcome |`,
    `|---|---|---|---|---|---|${tasks.map(() => '---|').join('')}---|`,
  ];
  for (const r of results) {
    const perTask = tasks.map((task) => formatScore(r.tasks.find((t) => t.task === task)?.macroF1 ?? Number.NaN));
    lines.push(`| ${r.name} | ${r.trains} | ${r.steps} | ${r.epochs}${r.stoppedEarly ? ' (early stop)' : ''} | ${minutes(r.seconds)} | ${formatScore(r.devMeanMacroF1)} | ${perTask.join(' | ')} | ${outcome(r)} |`);
  }
  const total = results.reduce((s, r) => s + r.seconds, 0);
  lines.push('', `Total: ${minutes(total)} (the calls that finished each stage). Final model: ${model}; each stage's report per task and language is in reports/.`, '');
  return lines.join('\n');
}

// What an experiment leaves behind: results.json (every number) and report.md (both comparisons as tables
// under a header that says what was trained on what).
import type { TrainConfig } from '../train/config.ts';
import { describeModelSize, type ModelSize } from './model-size.ts';
import type { Comparison } from './options.ts';
import type { SkippedCell } from './plan.ts';
import type { ComparisonResult, RunRecord } from './results.ts';

/** The training settings every run shares: the base configuration without its per-run fields. */
export type SharedSettings = Omit<TrainConfig, 'out' | 'seed'>;

export interface DataRecord {
  /** Under DIR/data. */
  readonly path: string;
  readonly train: string;
  readonly dev: string;
  readonly tasks: string;
  readonly trainRows: number;
  readonly devRows: number;
}

export interface ExperimentResults {
  readonly format: 'xlmt-experiment';
  readonly version: 1;
  readonly out: string;
  readonly compare: readonly Comparison[];
  readonly seeds: readonly number[];
  readonly tasks: readonly { readonly name: string; readonly type: string; readonly labels: readonly string[] }[];
  readonly languages: readonly string[];
  readonly minRows: number;
  readonly settings: SharedSettings;
  readonly source: { readonly train: { readonly file: string; readonly rows: number }; readonly dev: { readonly file: string; readonly rows: number } };
  /** The encoder every run trained (they all share it). */
  readonly model: ModelSize;
  readonly data: readonly DataRecord[];
  readonly skipped: readonly SkippedCell[];
  readonly unseenDevLanguages: Readonly<Record<string, number>>;
  readonly runs: readonly RunRecord[];
  readonly comparisons: readonly ComparisonResult[];
}

export function renderReport(r: ExperimentResults): string {
  const s = r.settings;
  const trained = r.runs.filter((run) => run.trained).length;
  const lines = [
    `# xlmt experiment: ${r.out}`,
    '',
    `- **data**: train \`${r.source.train.file}\` (${rows(r.source.train.rows)}), dev \`${r.source.dev.file}\` (${rows(r.source.dev.rows)}); each variant's filtered files are under \`${r.out}/data/\``,
    `- **tasks**: ${r.tasks.map((t) => `${t.name} (${t.type}, ${t.labels.length} labels)`).join(', ')}`,
    `- **languages**: ${r.languages.join(', ')}`,
    `- **seeds**: ${r.seeds.join(', ')}; a cell is the mean ± 95% CI (Student t) over ${r.seeds.length === 1 ? 'one run: no interval' : `the ${r.seeds.length} runs`}`,
    `- **model**: ${s.init === undefined ? 'from scratch' : `from \`${s.init}\``}, ${describeModelSize(r.model)}`,
    `- **training**: ${s.epochs} epochs, batch ${s.batchSize}${s.accumulation > 1 ? ` × ${s.accumulation}` : ''}, lr ${s.lr} (${s.schedule} schedule, ${Math.round(s.warmupRatio * 100)}% warm-up), max length ${s.maxLength}, ${s.pooling} pooling, ${s.patience === 0 ? 'no early stopping' : `patience ${s.patience}`}; each run keeps its best epoch on dev`,
    `- **runs**: ${r.runs.length} (${trained} trained now, ${r.runs.length - trained} finished earlier), under \`${r.out}/runs/\``,
    '',
    'Scores are dev macro-F1 × 100 of each run\'s kept model, multilabel thresholds tuned on its own dev file: ' +
      'multilabel scores are therefore optimistic, alike for every variant, so the comparisons stand but the absolute figures are upper bounds. ' +
      '**Δ%** is the relative degradation against the reference (first) column, (reference − variant) / reference × 100: ' +
      'positive means the variant scores lower than the reference, negative higher. Its ± is a 95% interval (delta method, Welch df).',
  ];
  const multi = r.comparisons.filter((c) => c.comparison === 'multitask');
  if (multi.length > 0) {
    lines.push('', '## Multi-task vs single-task', '', `Rows are tasks. single-task: one model per task; multi-task: one model on ${r.tasks.length === 2 ? 'both tasks' : `all ${r.tasks.length} tasks`}. Both see every language.`);
    for (const c of multi) lines.push('', ...table(c));
  }
  const cross = r.comparisons.filter((c) => c.comparison === 'crosslingual');
  if (cross.length > 0) {
    lines.push('', '## Cross-lingual vs monolingual', '', 'Rows are languages. monolingual: one single-task model per language, trained and scored on that language\'s rows; cross-lingual: the single-task model trained on every language, scored on the language\'s dev rows.');
    for (const c of cross) lines.push('', `### ${c.task ?? ''}`, '', ...table(c));
  }
  const unseen = Object.entries(r.unseenDevLanguages);
  if (r.skipped.length > 0 || unseen.length > 0) {
    lines.push('', '## Left out', '');
    for (const k of r.skipped) lines.push(`- no monolingual ${k.task} model for ${k.lang}: ${k.reason} (${rows(k.trainRows)} train, ${rows(k.devRows)} dev)`);
    if (unseen.length > 0) lines.push(`- dev rows in languages without training rows: ${unseen.map(([lang, n]) => `${lang} ${n}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function table(c: ComparisonResult): string[] {
  const out = c.markdown.trimEnd().split('\n');
  if (c.notes.length > 0) out.push('', ...c.notes.map((n) => `- ${n}`));
  return out;
}

function rows(n: number): string {
  return `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`;
}

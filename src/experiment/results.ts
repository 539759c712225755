// From the runs' dev scores to the paper's comparisons: per task (multi-task vs single-task) and per task and
// language (cross-lingual vs monolingual), mean ± 95% CI over seeds and Δ% against the reference variant.
import { comparisonTable, degradation, summarizeRuns, type ComparisonRow, type Degradation, type RunSummary } from '../eval/index.ts';
import type { ModelEvaluation } from '../train/assess.ts';
import type { Comparison } from './options.ts';
import type { ExperimentPlan, PlannedRun, Variant } from './plan.ts';

export interface LanguageScore {
  readonly lang: string;
  readonly n: number;
  /** null where macro-F1 is undefined: no label gold or predicted among these rows (NaN has no JSON form). */
  readonly macroF1: number | null;
}

export interface TaskScores {
  readonly task: string;
  /** Dev rows labeled for the task. */
  readonly n: number;
  readonly macroF1: number | null;
  readonly perLanguage: readonly LanguageScore[];
}

export interface RunRecord extends PlannedRun {
  /** false when an earlier invocation had finished the run and this one only evaluated it. */
  readonly trained: boolean;
  readonly steps: number;
  readonly epochs: number;
  readonly stoppedEarly: boolean;
  /** The epoch whose model was kept (best mean dev macro-F1). */
  readonly bestEpoch: number | null;
  /** The kept model's scores on its dev file, per task, with the multilabel thresholds it was saved with. */
  readonly dev: readonly TaskScores[];
}

export interface VariantCell {
  /** One per seed, in seed order; null where the run's score is undefined. Empty when the cell was skipped. */
  readonly runs: readonly (number | null)[];
  /** Over the defined runs; null when there is none. */
  readonly summary: RunSummary | null;
}

export interface ComparisonRowResult {
  /** A task (multi-task table) or a language (cross-lingual tables). */
  readonly key: string;
  readonly cells: Readonly<Record<string, VariantCell>>;
  /** Per non-reference variant: (reference − variant) / reference × 100, positive = worse; null when undefined. */
  readonly delta: Readonly<Record<string, Degradation | null>>;
}

export interface ComparisonResult {
  readonly comparison: Comparison;
  /** The task of a cross-lingual table; null for the multi-task table. */
  readonly task: string | null;
  readonly rowHeader: 'task' | 'language';
  /** The reference first. */
  readonly variants: readonly string[];
  readonly rows: readonly ComparisonRowResult[];
  /** Cells the table could not show as computed, and why. */
  readonly notes: readonly string[];
  readonly markdown: string;
}

export const MULTITASK_VARIANTS = ['single-task', 'multi-task'] as const;
export const CROSSLINGUAL_VARIANTS = ['monolingual', 'cross-lingual'] as const;

export function runRecord(run: PlannedRun, outcome: Omit<RunRecord, keyof PlannedRun | 'dev'>, evaluation: ModelEvaluation): RunRecord {
  const defined = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const dev = evaluation.reports.map((r) => ({
    task: r.task,
    n: r.n,
    macroF1: defined(r.macroF1),
    perLanguage: r.perLanguage.map((l) => ({ lang: l.lang, n: l.n, macroF1: defined(l.macroF1) })),
  }));
  return { ...run, ...outcome, dev };
}

export function compareRuns(plan: ExperimentPlan, records: readonly RunRecord[]): ComparisonResult[] {
  const perSeed = (match: (r: RunRecord) => boolean, score: (r: RunRecord) => number | null): (number | null)[] =>
    plan.seeds.map((seed) => {
      const record = records.find((r) => r.seed === seed && match(r));
      return record === undefined ? null : score(record);
    });
  const of = (variant: Variant, task: string | null, lang: string | null) => (r: RunRecord): boolean =>
    r.variant === variant && (task === null || r.task === task) && (lang === null || r.lang === lang);
  const taskScore = (task: string) => (r: RunRecord): number | null => r.dev.find((t) => t.task === task)?.macroF1 ?? null;
  const langScore = (task: string, lang: string) => (r: RunRecord): number | null =>
    r.dev.find((t) => t.task === task)?.perLanguage.find((l) => l.lang === lang)?.macroF1 ?? null;

  const results: ComparisonResult[] = [];
  if (plan.compare.includes('multitask')) {
    const rows = plan.tasks.map((task) => ({
      key: task,
      runs: {
        'single-task': perSeed(of('single-task', task, null), taskScore(task)),
        'multi-task': perSeed(of('multi-task', null, null), taskScore(task)),
      },
    }));
    results.push(comparison('multitask', null, 'task', MULTITASK_VARIANTS, rows));
  }
  if (plan.compare.includes('crosslingual')) {
    for (const task of plan.tasks) {
      const rows = plan.languages.map((lang) => {
        const skipped = plan.skipped.some((s) => s.task === task && s.lang === lang);
        return {
          key: lang,
          runs: {
            monolingual: skipped ? [] : perSeed(of('monolingual', task, lang), taskScore(task)),
            'cross-lingual': perSeed(of('single-task', task, null), langScore(task, lang)),
          },
        };
      });
      results.push(comparison('crosslingual', task, 'language', CROSSLINGUAL_VARIANTS, rows));
    }
  }
  return results;
}

interface RawRow {
  readonly key: string;
  readonly runs: Readonly<Record<string, readonly (number | null)[]>>;
}

function comparison(kind: Comparison, task: string | null, rowHeader: 'task' | 'language', variants: readonly string[], raw: readonly RawRow[]): ComparisonResult {
  const [reference, ...others] = variants as [string, ...string[]];
  const notes: string[] = [];
  const rows: ComparisonRowResult[] = [];
  const tableRows: ComparisonRow[] = [];
  for (const row of raw) {
    const cells: Record<string, VariantCell> = {};
    const shown: Record<string, number[]> = {};
    for (const variant of variants) {
      const runs = row.runs[variant] ?? [];
      const defined = runs.filter((x): x is number => x !== null);
      cells[variant] = { runs, summary: defined.length > 0 ? summarizeRuns(defined) : null };
      if (defined.length > 0) shown[variant] = defined;
      if (defined.length < runs.length) notes.push(`${row.key}, ${variant}: ${runs.length - defined.length} of ${runs.length} runs have no defined macro-F1 (no label gold or predicted) and are left out`);
    }
    const ref = shown[reference];
    const delta: Record<string, Degradation | null> = {};
    // Δ% divides by the reference mean: a reference of exactly 0 leaves it undefined, and the shared table
    // renderer refuses such a row, so the reference cell is blanked there and the reason noted.
    const zeroReference = ref !== undefined && cells[reference]?.summary?.mean === 0;
    if (zeroReference) {
      delete shown[reference];
      notes.push(`${row.key}: ${reference} scores 0.0, so Δ% is undefined and the cell is left blank`);
    }
    for (const variant of others) {
      const runs = shown[variant];
      delta[variant] = ref === undefined || runs === undefined || zeroReference ? null : degradation(ref, runs);
    }
    rows.push({ key: row.key, cells, delta });
    tableRows.push({ key: row.key, runs: shown });
  }
  const markdown = comparisonTable({ rowHeader, variants, rows: tableRows });
  return { comparison: kind, task, rowHeader, variants, rows, notes, markdown };
}

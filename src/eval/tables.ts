// Markdown tables of results: macro-F1 per task × language, and variant-vs-reference comparisons over seeds.
//
// Metric values (F1, accuracy) are fractions and print ×100 with one decimal ("0.8532" → "85.3"); relative
// degradations are already percentages and print with one decimal as they are. Missing cells print "-", NaN "n/a".
// Columns are padded so the raw text lines up; the first column is left-aligned, the numbers right-aligned.
import { badArgument } from './errors.ts';
import type { TaskReport } from './report.ts';
import { degradation, summarizeRuns, type Degradation, type RunSummary } from './stats.ts';

export interface ComparisonRow {
  /** The row's name: a language code or a task name. */
  readonly key: string;
  /** Metric values per variant name, one per run (seed); a variant left out prints "-". */
  readonly runs: Readonly<Record<string, readonly number[]>>;
}

export interface ComparisonTable {
  /** Title of the first column, such as 'language' or 'task'. */
  readonly rowHeader: string;
  /** Column order; the first is the reference every other variant's Δ% is measured against. */
  readonly variants: readonly string[];
  readonly rows: readonly ComparisonRow[];
  /** Pair runs by position when computing Δ% (see stats.ts). Default false. */
  readonly paired?: boolean;
  /** Confidence level of every ± (default 0.95). */
  readonly confidence?: number;
}

/** A fraction ×100 with one decimal: 0.8532 → "85.3". */
export function formatScore(value: number): string {
  return fixed(value * 100);
}

/** "85.3 ± 1.2" for several runs, "85.3" for one. */
export function formatRuns(summary: RunSummary): string {
  const m = formatScore(summary.mean);
  return summary.ci === null ? m : `${m} ± ${formatScore(summary.ci.halfWidth)}`;
}

/** "2.3 ± 0.8" (percent, not scaled), or "2.3" without an interval. */
export function formatDegradation(d: Degradation): string {
  const e = fixed(d.estimate);
  return d.ci === null ? e : `${e} ± ${fixed(d.ci.halfWidth)}`;
}

/**
 * Rows = tasks (in the given order) then a "mean" row; columns = languages (sorted) then "all", the task's
 * macro-F1 on every example. The mean row averages each column over the tasks that have that language.
 */
export function taskLanguageTable(reports: readonly TaskReport[]): string {
  if (reports.length === 0) {
    throw badArgument('taskLanguageTable', 'no task reports', { expected: 'at least one', received: '0' });
  }
  const langs = [...new Set(reports.flatMap((r) => r.perLanguage.map((l) => l.lang)))].sort(byCodeUnit);
  const values = reports.map((r) => [
    ...langs.map((lang) => r.perLanguage.find((l) => l.lang === lang)?.macroF1),
    r.macroF1,
  ]);
  const means = [...langs, 'all'].map((_, j) => {
    const present = values.map((row) => row[j]).filter((v): v is number => v !== undefined);
    return present.reduce((s, v) => s + v, 0) / present.length;
  });
  const body = reports.map((r, i) => [r.task, ...values[i]!.map((v) => (v === undefined ? '-' : formatScore(v)))]);
  return markdownTable(['task', ...langs, 'all'], [...body, ['mean', ...means.map(formatScore)]]);
}

/**
 * One row per key; for the reference a "mean ± CI" column, for every other variant a "mean ± CI" column and a
 * "Δ% <variant>" column of its relative degradation against the reference (positive = worse), as in the paper's
 * comparison tables.
 */
export function comparisonTable(table: ComparisonTable): string {
  const [reference, ...others] = table.variants;
  if (reference === undefined) {
    throw badArgument('comparisonTable', 'no variants', { expected: 'at least one', received: '0' });
  }
  const confidence = table.confidence ?? 0.95;
  const header = [table.rowHeader, reference, ...others.flatMap((v) => [v, `Δ% ${v}`])];
  const body = table.rows.map((row) => {
    const ref = row.runs[reference];
    const cells = [row.key, ref === undefined ? '-' : formatRuns(summarizeRuns(ref, confidence))];
    for (const variant of others) {
      const runs = row.runs[variant];
      cells.push(runs === undefined ? '-' : formatRuns(summarizeRuns(runs, confidence)));
      const d = ref === undefined || runs === undefined ? undefined : degradation(ref, runs, { paired: table.paired ?? false, confidence });
      cells.push(d === undefined ? '-' : formatDegradation(d));
    }
    return cells;
  });
  return markdownTable(header, body);
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((row) => row.map(escapeCell));
  const widths = header.map((_, j) => Math.max(3, ...all.map((row) => row[j]!.length)));
  const line = (row: readonly string[]): string =>
    `| ${row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, j) => (j === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n') + '\n';
}

/** One decimal, NaN as "n/a", and never "-0.0". */
function fixed(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  const text = value.toFixed(1);
  return text === '-0.0' ? '0.0' : text;
}

function escapeCell(cell: string): string {
  return cell.replaceAll('|', '\\|');
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// What `xlmt predict` writes per row: a JSON line (the default) or a CSV/TSV record with a column per task and
// per label score; and the line an unscorable row leaves in the errors file.
import { extname } from 'node:path';
import { CSV_DEFAULTS } from '../data/csv.ts';
import { renderIssue } from '../data/issues.ts';
import type { TaskInfo, TaskPrediction, TextPrediction } from '../infer/types.ts';
import type { InputProblem, InputRow } from './input.ts';

export type OutputFormat = 'jsonl' | 'csv' | 'tsv';

/** Output fields a kept input field must not shadow. */
export const RESERVED_FIELDS: readonly string[] = ['id', 'line', 'tasks', 'truncated'];

export interface OutputLayout {
  readonly format: OutputFormat;
  readonly tasks: readonly TaskInfo[];
  /** Kept input fields, in order: CSV output has a column for each whether a row has it or not. */
  readonly keep: readonly string[];
}

/** From the output file's extension: .csv and .tsv (or .tab) give CSV and TSV, anything else JSONL. */
export function outputFormat(file: string): OutputFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  return 'jsonl';
}

/** Probabilities keep 6 decimals: enough to rank and threshold, and a third of the bytes of a full double. */
function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}

/** The first line of a CSV/TSV output; JSONL has none. */
export function header(layout: OutputLayout): string {
  if (layout.format === 'jsonl') return '';
  const columns = ['id', 'line', ...layout.keep];
  for (const t of layout.tasks) columns.push(t.name, ...t.labels.map((l) => `${t.name}.${l}`));
  columns.push('truncated');
  return record(layout, columns);
}

export function formatRow(layout: OutputLayout, row: InputRow, prediction: TextPrediction): string {
  if (layout.format === 'jsonl') {
    const tasks: Record<string, TaskPrediction> = {};
    for (const t of layout.tasks) {
      const p = prediction.tasks[t.name];
      if (p === undefined) continue;
      const scores = Object.fromEntries(Object.entries(p.scores).map(([label, s]) => [label, round(s)]));
      tasks[t.name] = 'label' in p ? { label: p.label, scores } : { labels: p.labels, scores };
    }
    return `${JSON.stringify({ id: row.id, line: row.line, ...row.kept, tasks, truncated: prediction.truncated })}\n`;
  }
  const cells = [String(row.id), String(row.line), ...layout.keep.map((k) => cellText(row.kept[k]))];
  for (const t of layout.tasks) {
    const p = prediction.tasks[t.name];
    cells.push(p === undefined ? '' : 'label' in p ? p.label : labelSet(p.labels));
    for (const l of t.labels) {
      const score = p?.scores[l];
      cells.push(score === undefined ? '' : String(round(score)));
    }
  }
  cells.push(String(prediction.truncated));
  return record(layout, cells);
}

/** A multilabel set as training reads it back from a cell: `a|b`, or `[]` for none. */
function labelSet(labels: readonly string[]): string {
  return labels.length === 0 ? CSV_DEFAULTS.emptySet : labels.join(CSV_DEFAULTS.separator);
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function record(layout: OutputLayout, cells: readonly string[]): string {
  const delimiter = layout.format === 'tsv' ? '\t' : ',';
  return `${cells.map((c) => quote(c, delimiter)).join(delimiter)}\n`;
}

/** RFC 4180 quoting, only where a cell needs it. */
function quote(cell: string, delimiter: string): string {
  return cell.includes(delimiter) || cell.includes('"') || cell.includes('\n') || cell.includes('\r') ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** One line of `<out>.errors.jsonl`: where, why (as the error message would say it), and the row as written. */
export function formatProblem(problem: InputProblem): string {
  const { issue } = problem;
  return `${JSON.stringify({ line: problem.line, code: issue.code, field: issue.field, reason: renderIssue(issue), raw: problem.raw })}\n`;
}

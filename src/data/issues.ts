// Problems found in data and task-schema files: issues are data, rendered to text only here.

export type DataIssueCode =
  | 'READ_FAILED'
  | 'BAD_FORMAT'
  | 'BAD_OPTION'
  | 'BAD_SCHEMA'
  | 'EMPTY_FILE'
  | 'BAD_JSON'
  | 'NOT_AN_OBJECT'
  | 'UNKNOWN_FIELD'
  | 'BAD_CSV'
  | 'MISSING_COLUMN'
  | 'DUPLICATE_COLUMN'
  | 'WRONG_TYPE'
  | 'MISSING_TEXT'
  | 'EMPTY_TEXT'
  | 'MISSING_LANG'
  | 'DUPLICATE_ID'
  | 'UNKNOWN_TASK'
  | 'UNKNOWN_LABEL'
  | 'WRONG_LABEL_TYPE'
  | 'DUPLICATE_LABEL'
  | 'NO_LABELS'
  | 'BAD_SCORES';

export interface DataIssue {
  readonly code: DataIssueCode;
  readonly file: string;
  /** 1-based line (for CSV, where the record starts); null when the problem concerns the whole file. */
  readonly line: number | null;
  /** The field, JSON path or column, such as `labels.emotion[1]` or `column "sent"`. */
  readonly field: string | null;
  readonly message: string;
  readonly expected: string | null;
  readonly received: string | null;
  /** What to do about it, or a likely intended value. */
  readonly hint: string | null;
}

/** Where an issue is: the file and, for a row, its line. */
export interface Location {
  readonly file: string;
  readonly line: number | null;
}

export interface IssueDetails {
  readonly field?: string;
  readonly expected?: string;
  readonly received?: string;
  readonly hint?: string;
}

export function issue(code: DataIssueCode, at: Location, message: string, details: IssueDetails = {}): DataIssue {
  return {
    code,
    file: at.file,
    line: at.line,
    field: details.field ?? null,
    message,
    expected: details.expected ?? null,
    received: details.received ?? null,
    hint: details.hint ?? null,
  };
}

/** How many issues a DataError's message lists before "and N more"; `DataError.issues` holds them all. */
export const RENDER_CAP = 50;

export class DataError extends Error {
  readonly code = 'DATA_INVALID';

  constructor(readonly issues: readonly DataIssue[]) {
    super(renderIssues(issues));
    this.name = 'DataError';
  }
}

/** Throws a DataError when there is any issue: loaders report every problem at once, never the first alone. */
export function throwIfAny(issues: readonly DataIssue[]): void {
  if (issues.length > 0) throw new DataError(issues);
}

export function renderIssue(d: DataIssue): string {
  const where = d.line === null ? d.file : `${d.file}:${d.line}`;
  let text = d.field === null ? `${where}: ${d.message}` : `${where}: ${d.field}: ${d.message}`;
  const parts = [d.expected === null ? null : `expected ${d.expected}`, d.received === null ? null : `received ${d.received}`].filter((p) => p !== null);
  if (parts.length > 0) text += ` (${parts.join('; ')})`;
  if (d.hint !== null) text += `. ${d.hint.charAt(0).toUpperCase()}${d.hint.slice(1)}`;
  return text;
}

/** A summary line counting issues per code, then the first `cap` issues, then how many were left out. */
export function renderIssues(issues: readonly DataIssue[], cap = RENDER_CAP): string {
  const counts = new Map<DataIssueCode, number>();
  for (const d of issues) counts.set(d.code, (counts.get(d.code) ?? 0) + 1);
  const perCode = [...counts].map(([code, n]) => `${n.toLocaleString('en-US')} ${code}`).join(', ');
  const files = new Set(issues.map((d) => d.file));
  const [onlyFile] = files;
  const inFile = files.size === 1 && onlyFile !== undefined ? ` in ${onlyFile}` : '';
  const noun = issues.length === 1 ? 'problem' : 'problems';
  const lines = [`${issues.length.toLocaleString('en-US')} ${noun}${inFile} (${perCode}):`];
  for (const d of issues.slice(0, cap)) lines.push(`  ${renderIssue(d)}`);
  if (issues.length > cap) lines.push(`  … and ${(issues.length - cap).toLocaleString('en-US')} more`);
  return lines.join('\n');
}

/** A received value as it would be written in the file, cut short so one bad row cannot flood the report. */
export function show(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' || typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The JSON type name of a value, as users see it in their files. */
export function jsonType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

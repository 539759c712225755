// Problems found in data and task-schema files: issues are data, rendered to text only here (through the error
// model's renderer, so a bad row's control bytes are escaped), and raised as one DATA_INVALID XlmtError.
import { printable, renderText, XlmtError } from '../errors/index.ts';

/**
 * The per-row problem codes inside a DATA_INVALID error (`details.issues[].code`), each with the line
 * docs/errors.md lists it with.
 */
export const DATA_ISSUE_CODES = {
  READ_FAILED: 'the file cannot be read (missing, a directory, no permission)',
  BAD_FORMAT: 'the format cannot be told from the file name; name it (format, --format)',
  BAD_OPTION: 'a loading option does not fit the file: a column mapping for JSONL, a bad default language or separator',
  BAD_SCHEMA: 'a task schema (tasks.json) breaks a rule: task type, task name, labels',
  EMPTY_FILE: 'the file holds no rows',
  INVALID_UTF8: 'a line holds bytes that are not UTF-8; the message names the first bad byte',
  BAD_JSON: 'a JSONL line (or a JSON file) is not valid JSON',
  NOT_AN_OBJECT: 'a JSONL line is JSON but not an object',
  UNKNOWN_FIELD: 'a JSONL row has a field other than id, text, lang and labels (allow them with --ignore-extra-fields)',
  BAD_CSV: 'a CSV/TSV record cannot be read: an unclosed quote, the wrong number of fields',
  MISSING_COLUMN: 'a column the mapping needs is not in the header',
  DUPLICATE_COLUMN: 'the header names a column twice',
  WRONG_TYPE: 'a field has the wrong JSON type (a number for the text, say)',
  MISSING_TEXT: 'a row has no text',
  EMPTY_TEXT: 'a row\'s text is empty or blank',
  MISSING_LANG: 'a row has no language and no default language is set',
  DUPLICATE_ID: 'two rows share an id',
  UNKNOWN_TASK: 'a row or label mapping names a task the schema lacks',
  UNKNOWN_LABEL: 'a label is not one of its task\'s labels',
  WRONG_LABEL_TYPE: 'a multiclass label is not a string, or a multilabel label not an array',
  DUPLICATE_LABEL: 'a multilabel row lists a label twice',
  NO_LABELS: 'a row is labeled for no task (allow such rows with --allow-unlabeled)',
  BAD_SCORES: 'a teacher\'s prediction row has scores that are not probabilities of the task\'s labels',
} as const satisfies Readonly<Record<string, string>>;

export type DataIssueCode = keyof typeof DATA_ISSUE_CODES;

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

/** How many lines a DataError's message lists before "and N more"; `DataError.issues` holds them all. */
export const RENDER_CAP = 50;

/** How many line numbers a collapsed line shows for issues that repeat. */
const LINES_SHOWN = 5;

/** A load's problems as one error: DATA_INVALID, every issue in `issues` (and `details.issues` for --json). */
export class DataError extends XlmtError<'DATA_INVALID'> {
  readonly issues: readonly DataIssue[];

  constructor(issues: readonly DataIssue[], options?: ErrorOptions) {
    super({ code: 'DATA_INVALID', message: renderIssues(issues), details: { issues } }, options);
    this.name = 'DataError';
    this.issues = issues;
  }
}

/** Throws a DataError when there is any issue: loaders report every problem at once, never the first alone. */
export function throwIfAny(issues: readonly DataIssue[]): void {
  if (issues.length > 0) throw new DataError(issues);
}

export function renderIssue(d: DataIssue): string {
  return renderAt(d, d.line === null ? d.file : `${d.file}:${d.line}`);
}

function renderAt(d: DataIssue, where: string): string {
  const message = d.field === null ? d.message : `${d.field}: ${d.message}`;
  return renderText({ message, where: { file: where }, ...present({ expected: d.expected, received: d.received, hint: d.hint }) });
}

function present(parts: { expected: string | null; received: string | null; hint: string | null }): { expected?: string; received?: string; hint?: string } {
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== null));
}

/**
 * A summary line counting issues per code, then one line per issue, up to `cap` lines, then how many were left
 * out. Issues that differ only in their line (50 unlabeled rows) share one line with their count and first lines.
 */
export function renderIssues(issues: readonly DataIssue[], cap = RENDER_CAP): string {
  const counts = new Map<DataIssueCode, number>();
  for (const d of issues) counts.set(d.code, (counts.get(d.code) ?? 0) + 1);
  const perCode = [...counts].map(([code, n]) => `${n.toLocaleString('en-US')} ${code}`).join(', ');
  const files = new Set(issues.map((d) => d.file));
  const [onlyFile] = files;
  const inFile = files.size === 1 && onlyFile !== undefined ? ` in ${printable(onlyFile)}` : '';
  const noun = issues.length === 1 ? 'problem' : 'problems';
  const lines = [`${issues.length.toLocaleString('en-US')} ${noun}${inFile} (${perCode}):`];
  const groups = groupRepeats(issues);
  let shown = 0;
  for (const group of groups.slice(0, cap)) {
    lines.push(`  ${renderGroup(group)}`);
    shown += group.length;
  }
  if (issues.length > shown) lines.push(`  … and ${(issues.length - shown).toLocaleString('en-US')} more`);
  return lines.join('\n');
}

/** Issues alike but for their line, in order of first appearance. */
function groupRepeats(issues: readonly DataIssue[]): DataIssue[][] {
  const groups = new Map<string, DataIssue[]>();
  for (const d of issues) {
    const key = JSON.stringify([d.code, d.file, d.line === null, d.field, d.message, d.expected, d.received, d.hint]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [d]);
    else group.push(d);
  }
  return [...groups.values()];
}

function renderGroup(group: readonly DataIssue[]): string {
  const [first] = group;
  if (first === undefined) return '';
  if (group.length === 1 || first.line === null) return renderIssue(first);
  const shown = group.slice(0, LINES_SHOWN).map((d) => d.line).join(', ');
  const more = group.length > LINES_SHOWN ? ', …' : '';
  return renderAt(first, `${first.file}: ${group.length.toLocaleString('en-US')} rows (lines ${shown}${more})`);
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

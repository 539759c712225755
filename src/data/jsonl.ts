// Reads a JSONL file line by line into raw rows: `{"id"?, "text", "lang", "labels"?}` one object a line.
import { issue, show, type DataIssue } from './issues.ts';
import { invalidUtf8Issue, readTextLines } from './lines.ts';
import type { FieldNames, RawRow, ReadResult } from './rows.ts';
import { jsonErrorPosition } from './schema.ts';
import { didYouMean } from './suggest.ts';

export interface JsonlOptions {
  /** Accept keys other than id, text, lang and labels (metadata) instead of reporting them. Default false. */
  readonly ignoreExtraFields?: boolean;
}

const KNOWN_FIELDS = ['id', 'text', 'lang', 'labels'];

export const JSONL_FIELDS: FieldNames = {
  id: 'id',
  text: 'text',
  lang: 'lang',
  labels: 'labels',
  label: (task) => `labels.${task}`,
};

/** Streams the file (blank lines are skipped, not rows; lines of invalid UTF-8 are issues); the caller validates the rows. */
export async function readJsonl(file: string, options: JsonlOptions = {}): Promise<ReadResult> {
  const rows: RawRow[] = [];
  const issues: DataIssue[] = [];
  for await (const { line, text: raw, invalid } of readTextLines(file)) {
    if (invalid !== null) {
      issues.push(invalidUtf8Issue({ file, line }, invalid));
      continue;
    }
    const text = line === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    if (text.trim() === '') continue;
    const row = parseLine(text, { file, line }, options, issues);
    if (row !== null) rows.push(row);
  }
  return { rows, issues, fields: JSONL_FIELDS };
}

function parseLine(text: string, at: { file: string; line: number }, options: JsonlOptions, issues: DataIssue[]): RawRow | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const { column, detail } = jsonErrorPosition(text, (e as Error).message);
    issues.push(issue('BAD_JSON', at, `invalid JSON: ${detail}`, { expected: 'one JSON object per line', received: excerpt(text, column) }));
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push(issue('NOT_AN_OBJECT', at, 'a row must be a JSON object', { expected: '{"text": …, "lang": …, "labels": {…}}', received: show(value) }));
    return null;
  }
  const record = value as Record<string, unknown>;
  if (options.ignoreExtraFields !== true) {
    for (const key of Object.keys(record)) {
      if (KNOWN_FIELDS.includes(key)) continue;
      const hint = didYouMean(key, KNOWN_FIELDS) ?? 'remove it, or allow extra fields (ignoreExtraFields, --ignore-extra-fields)';
      issues.push(issue('UNKNOWN_FIELD', at, 'unknown field', { field: key, expected: 'id, text, lang or labels', received: show(key), hint }));
    }
  }
  return { line: at.line, id: record['id'], text: record['text'], lang: record['lang'], labels: record['labels'] };
}

/** The raw text near the error (the line as written, not re-quoted), so a long line still shows the spot. */
function excerpt(text: string, column: number | null): string {
  if (text.length <= 80) return text;
  const start = column === null ? 0 : Math.max(0, column - 50);
  const end = start + 70;
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

// Reads CSV and TSV files through a column mapping into raw rows; label cells become strings or label arrays.
import { readFile } from 'node:fs/promises';
import type { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { issue, show, type DataIssue, type Location } from './issues.ts';
import { invalidUtf8Issues } from './lines.ts';
import type { FieldNames, RawRow, ReadResult } from './rows.ts';
import type { TaskSchema, TaskType } from './schema.ts';
import { didYouMean, oneOf } from './suggest.ts';

export interface CsvOptions {
  /** Default `text`. */
  readonly textColumn?: string;
  /** Default `lang` when the header has it; without one every row needs the default language. */
  readonly langColumn?: string;
  /** Default `id` when the header has it; rows without an id get `file:line`. */
  readonly idColumn?: string;
  /** Task → column. Default: every schema task whose name is a column. */
  readonly labelColumns?: Readonly<Record<string, string>>;
  /** Between the labels of a multilabel cell. Default `|`. */
  readonly separator?: string;
  /** A multilabel cell holding the empty label set (an empty cell means "not labeled"). Default `[]`. */
  readonly emptySet?: string;
}

export interface CsvContext {
  readonly delimiter: ',' | '\t';
  /** Null: infer task types from the cells (see inferCellType). */
  readonly schema: TaskSchema | null;
  readonly hasDefaultLang: boolean;
  readonly allowUnlabeled: boolean;
}

export const CSV_DEFAULTS = { textColumn: 'text', langColumn: 'lang', idColumn: 'id', separator: '|', emptySet: '[]' } as const;

interface Mapping {
  readonly text: number;
  readonly lang: number | null;
  readonly id: number | null;
  readonly labels: readonly { readonly task: string; readonly column: string; readonly index: number }[];
}

interface CellRow {
  readonly line: number;
  readonly cells: readonly string[];
}

export async function readCsv(file: string, options: CsvOptions, context: CsvContext): Promise<ReadResult> {
  const buffer = await readFile(file);
  // Invalid bytes are reported by line; the parse goes on (with U+FFFD) to find the file's other problems.
  const issues: DataIssue[] = invalidUtf8Issues(file, buffer);
  const records = parseRecords(file, buffer, context.delimiter, issues);
  const [header, ...body] = records;
  if (header === undefined) return { rows: [], issues, fields: csvFields([], null) };

  const at = { file, line: header.line };
  const columns = header.cells.map((c) => c.trim());
  const mapping = resolveMapping(columns, options, context, at, issues);
  if (mapping === null) return { rows: [], issues, fields: csvFields([], null) };

  const separator = options.separator ?? CSV_DEFAULTS.separator;
  const emptySet = options.emptySet ?? CSV_DEFAULTS.emptySet;
  const types = new Map(mapping.labels.map((l) => [l.task, context.schema?.byName.get(l.task)?.type ?? inferCellType(body, l.index, separator, emptySet)]));
  const rows: RawRow[] = [];
  for (const record of body) {
    if (record.cells.length !== columns.length) {
      const expected = `${columns.length} fields, as in the header`;
      issues.push(issue('BAD_CSV', { file, line: record.line }, 'wrong number of fields', { expected, received: `${record.cells.length}`, hint: 'quote fields that contain the delimiter or line breaks' }));
      continue;
    }
    const labels: Record<string, unknown> = {};
    for (const l of mapping.labels) {
      const cell = (record.cells[l.index] ?? '').trim();
      if (cell !== '') labels[l.task] = decodeCell(cell, types.get(l.task) ?? 'multiclass', separator, emptySet);
    }
    rows.push({
      line: record.line,
      id: optionalCell(record.cells, mapping.id),
      text: record.cells[mapping.text],
      lang: optionalCell(record.cells, mapping.lang),
      labels: Object.keys(labels).length > 0 ? labels : undefined,
    });
  }
  return { rows, issues, fields: csvFields(columns, mapping) };
}

/** Without a schema, a task is multilabel when any of its cells holds the separator or the empty-set token. */
export function inferCellType(body: readonly CellRow[], column: number, separator: string, emptySet: string): TaskType {
  for (const r of body) {
    const cell = (r.cells[column] ?? '').trim();
    if (cell === emptySet || cell.includes(separator)) return 'multilabel';
  }
  return 'multiclass';
}

function decodeCell(cell: string, type: TaskType, separator: string, emptySet: string): string | string[] {
  if (type === 'multiclass') return cell;
  return cell === emptySet ? [] : cell.split(separator).map((l) => l.trim());
}

function optionalCell(cells: readonly string[], index: number | null): string | undefined {
  const cell = index === null ? '' : (cells[index] ?? '').trim();
  return cell === '' ? undefined : cell;
}

function csvFields(columns: readonly string[], mapping: Mapping | null): FieldNames {
  const column = (index: number | null | undefined, fallback: string) => (index === null || index === undefined ? fallback : `column ${JSON.stringify(columns[index])}`);
  return {
    id: column(mapping?.id, 'id'),
    text: column(mapping?.text, 'text'),
    lang: column(mapping?.lang, 'lang'),
    labels: mapping === null || mapping.labels.length === 0 ? 'labels' : `columns ${mapping.labels.map((l) => JSON.stringify(l.column)).join(', ')}`,
    label: (task) => {
      const l = mapping?.labels.find((x) => x.task === task);
      return l === undefined ? task : `column ${JSON.stringify(l.column)} (${task})`;
    },
  };
}

function resolveMapping(columns: readonly string[], o: CsvOptions, c: CsvContext, at: Location, issues: DataIssue[]): Mapping | null {
  const before = issues.length;
  const seen = new Set<string>();
  for (const col of columns) {
    if (col !== '' && seen.has(col)) issues.push(issue('DUPLICATE_COLUMN', at, 'the header names a column twice', { field: `column ${JSON.stringify(col)}`, expected: 'unique column names', received: show(col) }));
    seen.add(col);
  }
  const find = (name: string, message: string, hint: string): number | null => {
    const index = columns.indexOf(name);
    if (index >= 0) return index;
    const suggestion = didYouMean(name, columns) ?? hint;
    issues.push(issue('MISSING_COLUMN', at, message, { expected: `a column named ${JSON.stringify(name)}`, received: `columns ${columns.map((x) => JSON.stringify(x)).join(', ')}`, hint: suggestion }));
    return null;
  };

  const text = find(o.textColumn ?? CSV_DEFAULTS.textColumn, 'no text column', 'set the text column (textColumn, --text-column)');
  const langHint = 'set the language column (langColumn, --lang-column) or a default language (defaultLang, --lang)';
  const lang = o.langColumn !== undefined || !c.hasDefaultLang ? find(o.langColumn ?? CSV_DEFAULTS.langColumn, 'no language column', langHint) : optionalIndex(columns, CSV_DEFAULTS.langColumn);
  const id = o.idColumn !== undefined ? find(o.idColumn, 'no id column', 'check the id column name (idColumn, --id-column)') : optionalIndex(columns, CSV_DEFAULTS.idColumn);

  const wanted = o.labelColumns ?? Object.fromEntries((c.schema?.tasks ?? []).filter((t) => columns.includes(t.name)).map((t) => [t.name, t.name]));
  const labels: Mapping['labels'][number][] = [];
  for (const [task, column] of Object.entries(wanted)) {
    const known = c.schema === null || c.schema.byName.has(task);
    if (!known) {
      const tasks = c.schema?.tasks.map((t) => t.name) ?? [];
      issues.push(issue('UNKNOWN_TASK', at, 'the label mapping names a task the schema lacks', { field: `column ${JSON.stringify(column)}`, expected: oneOf(tasks), received: show(task), hint: didYouMean(task, tasks) ?? 'add the task to the schema' }));
    }
    const index = find(column, `no label column for task ${task}`, 'check the label mapping (labelColumns, --label-column task=column)');
    if (index !== null && known) labels.push({ task, column, index });
  }
  if (labels.length === 0 && issues.length === before && !c.allowUnlabeled) {
    const hint = 'map label columns (labelColumns, --label-column task=column), or allow unlabeled rows (allowUnlabeled, --allow-unlabeled)';
    issues.push(issue('MISSING_COLUMN', at, 'no label columns', { expected: 'at least one column mapped to a task', received: `columns ${columns.map((x) => JSON.stringify(x)).join(', ')}`, hint }));
  }
  checkSeparator(o, c.schema, at, issues);
  if (issues.length > before || text === null) return null;
  return { text, lang, id, labels };
}

function optionalIndex(columns: readonly string[], name: string): number | null {
  const index = columns.indexOf(name);
  return index >= 0 ? index : null;
}

/** A label that contains the separator could never be read back from a cell. */
function checkSeparator(o: CsvOptions, schema: TaskSchema | null, at: Location, issues: DataIssue[]): void {
  const separator = o.separator ?? CSV_DEFAULTS.separator;
  if (separator === '') {
    issues.push(issue('BAD_OPTION', at, 'the multilabel separator must not be empty', { field: 'separator', expected: 'a non-empty string', received: '""' }));
    return;
  }
  for (const t of schema?.tasks ?? []) {
    if (t.type !== 'multilabel') continue;
    for (const l of t.labels.filter((x) => x.includes(separator))) {
      issues.push(issue('BAD_OPTION', at, `task ${t.name} has a label containing the multilabel separator`, { field: 'separator', expected: `a separator no label contains`, received: `${show(separator)} in label ${show(l)}`, hint: 'choose another separator (separator, --separator)' }));
    }
  }
}

/**
 * Parses every record, noting the line each starts on; a record csv-parse cannot read becomes an issue. The
 * synchronous parser calls on_record and on_skip in file order, which the line count relies on.
 */
function parseRecords(file: string, buffer: Buffer, delimiter: string, issues: DataIssue[]): CellRow[] {
  const records: CellRow[] = [];
  const lines = new LineCursor(buffer);
  let end = 0; // byte offset just past the last record read
  try {
    parse(buffer, {
      delimiter,
      bom: true,
      relax_column_count: true, // counted against the header by the caller, one issue per record
      relax_quotes: true, // a quote inside an unquoted field is text (`he said "hi"`), common in TSV exports
      record_delimiter: ['\r\n', '\n'],
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_record: (record: string[], context: { readonly bytes: number }) => {
        records.push({ line: lines.startOfRecord(end), cells: record });
        end = context.bytes;
        return null; // collected here; nothing for the parser to keep
      },
      on_skip: (e: CsvError | undefined) => {
        const message = e?.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field is never closed' : `unreadable record: ${e?.message ?? 'unknown error'}`;
        issues.push(issue('BAD_CSV', { file, line: lines.startOfRecord(end) }, message, { hint: 'fields with quotes, delimiters or line breaks must be quoted, with inner quotes doubled ("")' }));
        return undefined;
      },
    });
  } catch (e) {
    issues.push(issue('BAD_CSV', { file, line: lines.startOfRecord(end) }, `unreadable CSV: ${(e as Error).message}`));
  }
  return records;
}

/**
 * Line numbers from byte offsets. csv-parse's own line count drifts on CRLF inside quoted fields, so lines are
 * counted here: a record starts at the first byte after the previous one that is not a line break.
 */
class LineCursor {
  private offset = 0;
  private line = 1;

  constructor(private readonly buffer: Buffer) {}

  startOfRecord(previousEnd: number): number {
    let start = previousEnd;
    while (this.buffer[start] === 0x0a || this.buffer[start] === 0x0d) start++;
    while (this.offset < start) {
      const next = this.buffer.indexOf(0x0a, this.offset);
      if (next < 0 || next >= start) break;
      this.line++;
      this.offset = next + 1;
    }
    return this.line;
  }
}

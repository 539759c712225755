// CSV and TSV rows to score, parsed as a stream with the same csv-parse settings training uses (see
// data/csv.ts), with the line each record starts on and the byte offset after it.
import { createReadStream } from 'node:fs';
import { parse, type CsvError } from 'csv-parse';
import { DataError, issue } from '../data/issues.ts';
import { didYouMean } from '../data/suggest.ts';
import { checkRow, DEFAULT_ID, DEFAULT_KEEP, type InputFields, type InputRecord } from './input.ts';
import { FILE_START, LineTracker, type Position } from './lines.ts';

const READ_CHUNK = 1 << 20;

interface CsvRecord {
  readonly line: number;
  /** Null: csv-parse could not read the record (`problem` says why). */
  readonly cells: readonly string[] | null;
  readonly problem: string | null;
  readonly next: Position;
}

interface Columns {
  readonly names: readonly string[];
  readonly text: number;
  readonly id: number | null;
  readonly keep: readonly { readonly name: string; readonly index: number }[];
}

/** The header is read first (a resumed run reads it again), so a wrong column name fails before any scoring. */
export async function openCsvRecords(file: string, delimiter: ',' | '\t', fields: InputFields, from: Position): Promise<{ from: Position; records: AsyncIterable<InputRecord> }> {
  let header: CsvRecord | undefined;
  for await (const record of readCsvRecords(file, delimiter, FILE_START)) {
    header = record;
    break;
  }
  if (header === undefined) return { from, records: noRecords() };
  const columns = resolveColumns(file, header, fields);
  const start = from.offset === 0 ? header.next : from;
  return { from: start, records: toInputRecords(file, columns, readCsvRecords(file, delimiter, start)) };
}

async function* noRecords(): AsyncGenerator<InputRecord> {}

async function* toInputRecords(file: string, columns: Columns, records: AsyncIterable<CsvRecord>): AsyncGenerator<InputRecord> {
  const name = (column: string): string => `column ${JSON.stringify(column)}`;
  const fields = { text: columns.names[columns.text] ?? '', id: columns.id === null ? DEFAULT_ID : (columns.names[columns.id] ?? DEFAULT_ID) };
  const width = columns.names.length;
  for await (const r of records) {
    const at = { file, line: r.line };
    if (r.cells === null) {
      const hint = 'fields with quotes, delimiters or line breaks must be quoted, with inner quotes doubled ("")';
      yield { kind: 'error', line: r.line, next: r.next, issue: issue('BAD_CSV', at, r.problem ?? 'unreadable record', { hint }), raw: null };
      continue;
    }
    if (r.cells.length !== width) {
      const details = { expected: `${width} fields, as in the header`, received: `${r.cells.length}`, hint: 'quote fields that contain the delimiter or line breaks' };
      yield { kind: 'error', line: r.line, next: r.next, issue: issue('BAD_CSV', at, 'wrong number of fields', details), raw: r.cells };
      continue;
    }
    const kept: Record<string, unknown> = {};
    for (const k of columns.keep) {
      const cell = (r.cells[k.index] ?? '').trim();
      if (cell !== '') kept[k.name] = cell;
    }
    const id = columns.id === null ? undefined : r.cells[columns.id]?.trim();
    const checked = checkRow({ text: r.cells[columns.text], id, kept }, fields, at, r.next, name);
    yield 'kind' in checked ? checked : { kind: 'error', line: r.line, next: r.next, issue: checked, raw: r.cells };
  }
}

function resolveColumns(file: string, header: CsvRecord, fields: InputFields): Columns {
  const at = { file, line: header.line };
  if (header.cells === null) throw new DataError([issue('BAD_CSV', at, `unreadable header: ${header.problem ?? 'unknown error'}`)]);
  const names = header.cells.map((c) => c.trim());
  const listed = `columns ${names.map((x) => JSON.stringify(x)).join(', ')}`;
  const problems: ReturnType<typeof issue>[] = [];
  const find = (column: string, flag: string): number => {
    const index = names.indexOf(column);
    if (index < 0) problems.push(issue('MISSING_COLUMN', at, `no column ${JSON.stringify(column)}`, { field: flag, expected: `a column named ${JSON.stringify(column)}`, received: listed, hint: didYouMean(column, names) ?? `set ${flag}` }));
    return index;
  };
  const text = find(fields.text, '--text-column');
  const id = fields.id === undefined ? names.indexOf(DEFAULT_ID) : find(fields.id, '--id-column');
  const keep = fields.keep === undefined
    ? DEFAULT_KEEP.map((n) => ({ name: n, index: names.indexOf(n) })).filter((k) => k.index >= 0)
    : fields.keep.map((n) => ({ name: n, index: find(n, '--keep') }));
  if (problems.length > 0) throw new DataError(problems);
  return { names, text, id: id >= 0 ? id : null, keep };
}

/**
 * Records from `from` on. csv-parse runs as a stream fed by hand: every chunk goes to the line tracker first,
 * then to the parser, whose on_record collects the records the chunk completes; they are handed out before
 * the next chunk is read. csv-parse's own line count drifts on CRLF inside quoted fields, hence the tracker.
 */
async function* readCsvRecords(file: string, delimiter: ',' | '\t', from: Position): AsyncGenerator<CsvRecord> {
  const lines = new LineTracker(from);
  const found: CsvRecord[] = [];
  let end = from.offset; // just past the last record
  const recordAt = (cells: string[] | null, problem: string | null, bytes: number): void => {
    const line = lines.lineAt(lines.skipBreaks(end));
    end = Math.max(end, from.offset + bytes);
    found.push({ line, cells, problem, next: { offset: end, line: lines.lineAt(end) } });
  };
  const parser = parse({
    delimiter,
    bom: from.offset === 0,
    relax_column_count: true, // counted against the header per record, one issue each
    relax_quotes: true, // a quote inside an unquoted field is text (`he said "hi"`), common in TSV exports
    record_delimiter: ['\r\n', '\n'],
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: string[], context: { readonly bytes: number }) => {
      recordAt(record, null, context.bytes);
      return null; // handed out here; nothing for the parser to keep
    },
    on_skip: (e: CsvError | undefined) => {
      const problem = e?.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field is never closed' : `unreadable record: ${e?.message ?? 'unknown error'}`;
      recordAt(null, problem, parser.info.bytes);
      return undefined;
    },
  });
  let failure: Error | null = null;
  parser.on('error', (e: Error) => { failure = e; });
  parser.resume(); // records are taken in on_record; the readable side stays empty
  const feed = (chunk: Buffer | null): Promise<void> => new Promise((resolve) => {
    if (chunk === null) parser.end(() => resolve());
    else parser.write(chunk, () => resolve());
  });
  const stream = createReadStream(file, { start: from.offset, highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      lines.push(chunk);
      await feed(chunk);
      if (failure !== null) throw failure;
      yield* found.splice(0);
    }
    await feed(null);
    if (failure !== null) throw failure;
    yield* found.splice(0);
  } finally {
    stream.destroy();
    parser.destroy();
  }
}

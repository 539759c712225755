// Rows to score, read as a stream from a JSONL, CSV or TSV file: each a text to classify or the problem that
// keeps it from being one, with the position after it so a resumed run can start there.
import { issue, jsonType, show, type DataIssue, type Location } from '../data/issues.ts';
import type { DataFormat } from '../data/rows.ts';
import type { Position } from './lines.ts';

export interface InputFields {
  /** JSONL field or CSV column holding the text. */
  readonly text: string;
  /** Field or column of the row id; undefined: `id` where present, else the row's line number. */
  readonly id: string | undefined;
  /** Fields or columns copied to the output; undefined: `lang` where present. */
  readonly keep: readonly string[] | undefined;
}

export const DEFAULT_ID = 'id';
export const DEFAULT_KEEP: readonly string[] = ['lang'];

export type RowId = string | number;

export interface InputRow {
  readonly kind: 'row';
  readonly line: number;
  readonly next: Position;
  /** The row's own id, or its line number when it has none. */
  readonly id: RowId;
  readonly text: string;
  /** The kept fields the row has, in the order asked for. */
  readonly kept: Readonly<Record<string, unknown>>;
}

export interface InputProblem {
  readonly kind: 'error';
  readonly line: number;
  readonly next: Position;
  readonly issue: DataIssue;
  /** The row as written: the JSONL line, or the CSV record's cells (null when the record could not be read). */
  readonly raw: unknown;
}

export type InputRecord = InputRow | InputProblem;

export interface OpenInput {
  readonly format: DataFormat;
  /** Where reading starts: the first row, or where an interrupted run stopped. */
  readonly from: Position;
  readonly records: AsyncIterable<InputRecord>;
}

/** How a reader names a field in messages: JSON keys for JSONL, `column "x"` for CSV. */
export type FieldName = (name: string) => string;

/**
 * A row's text and id checked as prediction needs them: the text a non-empty string, the id a string or number
 * when present. Returns the issue that keeps the row from being scored, or the row.
 */
export function checkRow(
  values: { readonly text: unknown; readonly id: unknown; readonly kept: Readonly<Record<string, unknown>> },
  fields: { readonly text: string; readonly id: string },
  at: Location & { readonly line: number },
  next: Position,
  name: FieldName,
): InputRow | DataIssue {
  const { text, id } = values;
  if (text === undefined) return issue('MISSING_TEXT', at, 'the row has no text', { field: name(fields.text), expected: 'a non-empty string', received: 'nothing', hint: textHint(fields.text) });
  if (typeof text !== 'string') return issue('WRONG_TYPE', at, 'the text must be a string', { field: name(fields.text), expected: 'a non-empty string', received: jsonType(text) });
  if (text.trim() === '') return issue('EMPTY_TEXT', at, 'the text is empty', { field: name(fields.text), expected: 'a non-empty string', received: show(text) });
  let rowId: RowId = at.line;
  if (typeof id === 'string' && id !== '') rowId = id;
  else if (typeof id === 'number' && Number.isFinite(id)) rowId = id;
  else if (id !== undefined && id !== null && id !== '') return issue('WRONG_TYPE', at, 'an id must be a string or a number', { field: name(fields.id), expected: 'a string or a number', received: show(id) });
  return { kind: 'row', line: at.line, next, id: rowId, text, kept: values.kept };
}

function textHint(field: string): string {
  return `name the text field with --text-field (JSONL) or --text-column (CSV/TSV); it is ${JSON.stringify(field)} now`;
}

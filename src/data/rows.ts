// What a format reader hands to validation: rows with their line numbers, not yet checked, and how to name their fields.
import type { DataIssue } from './issues.ts';

export type DataFormat = 'jsonl' | 'csv' | 'tsv';

/**
 * One row as read. Values are JSON values (CSV cells already turned into strings and label arrays), unchecked:
 * validation decides what is wrong with them, so every reader reports the same problems the same way.
 */
export interface RawRow {
  readonly line: number;
  readonly id: unknown;
  readonly text: unknown;
  readonly lang: unknown;
  /** The row's task → label object; undefined when the row has none. */
  readonly labels: unknown;
}

/** How a reader's fields read in messages: JSON paths for JSONL, column names for CSV. */
export interface FieldNames {
  readonly id: string;
  readonly text: string;
  readonly lang: string;
  readonly labels: string;
  label(task: string): string;
}

export interface ReadResult {
  readonly rows: readonly RawRow[];
  /** Problems the reader itself found: unreadable lines, bad JSON, missing columns. */
  readonly issues: readonly DataIssue[];
  readonly fields: FieldNames;
}

// Test helpers: data files written to a temporary folder, and the issues of a load that must fail.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DataError, parseTaskSchema, type DataIssue } from '../../src/data/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'xlmt-data-'));

/** Writes `content` to a fresh file named `name` and returns its path. */
export function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** JSONL from row objects (or raw line strings, for broken lines). */
export function jsonl(name: string, rows: readonly (object | string)[]): string {
  return file(name, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
}

/** The xm-bench schema, trimmed: two multiclass tasks and one multilabel task. */
export const schema = parseTaskSchema({
  sentiment: { type: 'multiclass', labels: ['negative', 'neutral', 'positive'] },
  topic: { type: 'multiclass', labels: ['health', 'sports', 'travel'] },
  emotion: { type: 'multilabel', labels: ['anger', 'joy', 'trust'] },
});

/** Awaits a load that must throw a DataError and returns its issues. */
export async function issuesOf(load: Promise<unknown>): Promise<readonly DataIssue[]> {
  const error = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return (error as DataError).issues;
}

/** Each issue as `line code field`, the shape most assertions compare. */
export function brief(issues: readonly DataIssue[]): string[] {
  return issues.map((i) => `${i.line ?? '-'} ${i.code} ${i.field ?? '-'}`);
}

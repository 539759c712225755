// Guesses a task schema from the labels in the rows, for looking at data that comes without a tasks.json.
import type { RawRow } from './rows.ts';
import { makeSchema, makeTask, type TaskSchema } from './schema.ts';

interface Seen {
  strings: number;
  arrays: number;
  readonly single: Set<string>;
  readonly multi: Set<string>;
}

/**
 * A task is multiclass when most of its values are strings and multilabel when most are arrays; the minority
 * then fails validation against the guess, each at its own line. Tasks keep their order of first appearance;
 * labels are sorted, since the data says nothing about their order.
 */
export function inferTaskSchema(rows: readonly RawRow[], file: string): TaskSchema {
  const tasks = new Map<string, Seen>();
  for (const row of rows) {
    if (row.labels === null || typeof row.labels !== 'object' || Array.isArray(row.labels)) continue;
    for (const [task, value] of Object.entries(row.labels)) {
      let seen = tasks.get(task);
      if (seen === undefined) {
        seen = { strings: 0, arrays: 0, single: new Set(), multi: new Set() };
        tasks.set(task, seen);
      }
      if (typeof value === 'string') {
        seen.strings++;
        seen.single.add(value);
      } else if (Array.isArray(value)) {
        seen.arrays++;
        for (const l of value) if (typeof l === 'string') seen.multi.add(l);
      }
    }
  }
  const inferred = [...tasks].map(([name, seen]) => {
    const multilabel = seen.arrays > seen.strings;
    const labels = [...(multilabel ? seen.multi : seen.single)].sort();
    return makeTask(name, multilabel ? 'multilabel' : 'multiclass', labels);
  });
  return makeSchema(inferred, { kind: 'inferred', file });
}

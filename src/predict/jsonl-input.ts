// JSONL rows to score: one JSON object a line, the text and id in named fields, other fields free (metadata).
import { issue, show } from '../data/issues.ts';
import { jsonErrorPosition } from '../data/schema.ts';
import { checkRow, DEFAULT_ID, DEFAULT_KEEP, type InputFields, type InputRecord } from './input.ts';
import { readLines, type Line, type Position } from './lines.ts';

/** Blank lines are skipped, not rows, as when training reads the file. */
export async function* readJsonlRecords(file: string, fields: InputFields, from: Position): AsyncGenerator<InputRecord> {
  for await (const line of readLines(file, from)) {
    if (line.text.trim() === '') continue;
    yield parseLine(file, line, fields);
  }
}

function parseLine(file: string, l: Line, fields: InputFields): InputRecord {
  const at = { file, line: l.line };
  const problem = (i: ReturnType<typeof issue>): InputRecord => ({ kind: 'error', line: l.line, next: l.next, issue: i, raw: l.text });
  let value: unknown;
  try {
    value = JSON.parse(l.text);
  } catch (e) {
    const { detail } = jsonErrorPosition(l.text, (e as Error).message);
    return problem(issue('BAD_JSON', at, `invalid JSON: ${detail}`, { expected: 'one JSON object per line', received: show(l.text, 80) }));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return problem(issue('NOT_AN_OBJECT', at, 'a row must be a JSON object', { expected: `{"${fields.text}": …}`, received: show(value) }));
  }
  const record = value as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const name of fields.keep ?? DEFAULT_KEEP) if (record[name] !== undefined) kept[name] = record[name];
  const idField = fields.id ?? DEFAULT_ID;
  const checked = checkRow({ text: record[fields.text], id: record[idField], kept }, { text: fields.text, id: idField }, at, l.next, (name) => name);
  return 'kind' in checked ? checked : problem(checked);
}

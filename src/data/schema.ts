// The task schema: which tasks exist, their type and label order; loaded from JSON and validated with zod.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DataError, issue, jsonType, show, type DataIssue, type Location } from './issues.ts';

export type TaskType = 'multiclass' | 'multilabel';

export interface Task {
  readonly name: string;
  readonly type: TaskType;
  /** In file order: a label's position here is its class index. */
  readonly labels: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Fields besides type and labels (such as `source`), kept so a schema written back is the one read. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface SchemaOrigin {
  /** `file`: read from `file`; `inferred`: guessed from the labels in data file `file`; `inline`: built in code. */
  readonly kind: 'file' | 'inferred' | 'inline';
  readonly file: string | null;
}

export interface TaskSchema {
  readonly tasks: readonly Task[];
  readonly byName: ReadonlyMap<string, Task>;
  readonly origin: SchemaOrigin;
}

/** The JSON form of one task, as in tasks.json. */
export interface TaskJson {
  readonly type: TaskType;
  readonly labels: readonly string[];
  readonly [extra: string]: unknown;
}

// Task names become parts of parameter names (`heads.<task>.weight`), CLI arguments (`task=column`) and
// table headers, so they keep to characters that need no quoting in any of those.
const TASK_NAME = /^[A-Za-z0-9_-]+$/;

const label = z
  .string({ error: 'a label must be a string' })
  .min(1, { error: 'a label must not be empty' })
  .refine((s) => s.trim() === s, { error: 'a label must not start or end with whitespace', params: { expected: 'a label without surrounding whitespace' } });

function labelList(type: TaskType, min: number) {
  return z
    .array(label, { error: 'labels must be an array of strings' })
    .min(min, { error: `a ${type} task needs at least ${min} label${min === 1 ? '' : 's'}` })
    .superRefine((labels, ctx) => {
      const first = new Map<string, number>();
      labels.forEach((l, i) => {
        const seen = first.get(l);
        if (seen === undefined) first.set(l, i);
        else ctx.addIssue({ code: 'custom', path: [i], message: `duplicate label (first at labels[${seen}])`, params: { expected: 'unique labels' } });
      });
    });
}

// Loose objects: tasks.json carries descriptive fields (`source`) that the schema keeps but does not read.
const taskSpec = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('multiclass'), labels: labelList('multiclass', 2) }),
  z.looseObject({ type: z.literal('multilabel'), labels: labelList('multilabel', 1) }),
]);

const schemaFile = z
  .record(z.string().regex(TASK_NAME), taskSpec, { error: 'a task schema must be a JSON object of tasks' })
  .refine((tasks) => Object.keys(tasks).length > 0, { error: 'a task schema needs at least one task', params: { expected: 'at least one task' } });

/** Validates a parsed task-schema file; throws a DataError listing every problem, each with its JSON path. */
export function parseTaskSchema(json: unknown, file: string | null = null): TaskSchema {
  const result = schemaFile.safeParse(json);
  const where = { file: file ?? '<task schema>', line: null };
  if (!result.success) throw new DataError(result.error.issues.map((i) => toDataIssue(i, json, where)));
  const tasks = Object.entries(result.data).map(([name, spec]) => {
    const { type, labels, ...extra } = spec;
    return makeTask(name, type, labels, extra);
  });
  return makeSchema(tasks, { kind: file === null ? 'inline' : 'file', file });
}

export async function loadTaskSchema(file: string): Promise<TaskSchema> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError([issue('READ_FAILED', { file, line: null }, `cannot read the task schema: ${(e as Error).message}`)]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const { line, detail } = jsonErrorPosition(text, (e as Error).message);
    throw new DataError([issue('BAD_JSON', { file, line }, `invalid JSON: ${detail}`, { expected: 'a JSON object of tasks' })]);
  }
  return parseTaskSchema(json, file);
}

export function taskSchemaToJson(schema: TaskSchema): Record<string, TaskJson> {
  return Object.fromEntries(schema.tasks.map((t) => [t.name, { type: t.type, labels: [...t.labels], ...t.extra }]));
}

export function makeTask(name: string, type: TaskType, labels: readonly string[], extra: Record<string, unknown> = {}): Task {
  return { name, type, labels, index: new Map(labels.map((l, i) => [l, i])), extra };
}

export function makeSchema(tasks: readonly Task[], origin: SchemaOrigin): TaskSchema {
  return { tasks, byName: new Map(tasks.map((t) => [t.name, t])), origin };
}

function toDataIssue(i: z.core.$ZodIssue, input: unknown, at: Location): DataIssue {
  const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
  const field = formatPath(path);
  const value = valueAt(input, path);
  const details = (expected: string, received: string) => (field === null ? { expected, received } : { field, expected, received });
  switch (i.code) {
    case 'invalid_union':
      return issue('BAD_SCHEMA', at, 'unknown task type', details('"multiclass" or "multilabel"', show(value)));
    case 'invalid_key':
      return issue('BAD_SCHEMA', at, 'invalid task name', details('letters, digits, "_" or "-"', show(path[path.length - 1])));
    case 'invalid_type':
      return issue('BAD_SCHEMA', at, i.message, details(i.expected === 'record' ? 'object' : i.expected, jsonType(value)));
    case 'too_small':
      if (i.origin === 'string') return issue('BAD_SCHEMA', at, i.message, details('a non-empty string', show(value)));
      return issue('BAD_SCHEMA', at, i.message, details(`at least ${i.minimum}`, Array.isArray(value) ? `${value.length}` : show(value)));
    default: {
      const expected = i.code === 'custom' && typeof i.params?.['expected'] === 'string' ? i.params['expected'] : 'a valid task schema';
      return issue('BAD_SCHEMA', at, i.message, details(expected, show(value)));
    }
  }
}

/** `emotion.labels[3]`; null for the root. */
function formatPath(path: readonly (string | number)[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('');
}

/** The value at a zod issue's path inside the parsed input, or undefined where the path leaves it. */
export function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** V8 names a character position in the whole text; people look for a line. */
export function jsonErrorPosition(text: string, message: string): { line: number; column: number | null; detail: string } {
  const m = /(.*) in JSON at position (\d+)/s.exec(message);
  if (m === null) return { line: 1, column: null, detail: message };
  const position = Number(m[2]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { line, column, detail: `${m[1]} at column ${column}` };
}

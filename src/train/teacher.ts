// A teacher's predictions as soft targets: `xlmt predict`'s JSONL (with the text kept), or any file in its
// layout, read into rows whose targets are the teacher's label probabilities. Training mixes them with the
// gold examples (knowledge distillation on a transfer set, as XtremeDistil does with unlabeled text).
import { open } from 'node:fs/promises';
import type { Task, TaskSchema } from '../data/index.ts';
import { DataError, issue, jsonType, show, throwIfAny, type DataIssue } from '../data/issues.ts';
import { jsonErrorPosition } from '../data/schema.ts';
import { didYouMean } from '../data/suggest.ts';

/** One row of a teacher file: its text and, per task it has scores for, one probability per label. */
export interface TeacherRow {
  readonly text: string;
  /** Multiclass: a distribution over the labels; multilabel: one independent probability per label. */
  readonly soft: ReadonlyMap<string, Float32Array>;
  readonly line: number;
}

/** How far a multiclass row's probabilities may sum from 1 (predictions are written with 6 decimals). */
const SUM_TOLERANCE = 1e-3;

/** Reads every row; a file with any bad row is refused with each problem at its line. */
export async function loadTeacher(file: string, schema: TaskSchema): Promise<TeacherRow[]> {
  const rows: TeacherRow[] = [];
  const issues: DataIssue[] = [];
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new DataError([issue('READ_FAILED', { file, line: null }, `cannot read the teacher's predictions: ${(e as Error).message}`)]);
  }
  try {
    let line = 0;
    for await (const raw of handle.readLines({ encoding: 'utf8' })) {
      line++;
      if (raw.trim() === '') continue;
      const row = parseRow(raw, { file, line }, schema, issues);
      if (row) rows.push(row);
    }
  } finally {
    await handle.close();
  }
  if (rows.length === 0 && issues.length === 0) {
    throw new DataError([issue('EMPTY_FILE', { file, line: null }, 'the teacher file holds no rows', { expected: 'one prediction object per line', received: 'nothing' })]);
  }
  throwIfAny(issues);
  return rows;
}

function parseRow(raw: string, at: { file: string; line: number }, schema: TaskSchema, issues: DataIssue[]): TeacherRow | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    const { detail } = jsonErrorPosition(raw, (e as Error).message);
    issues.push(issue('BAD_JSON', at, `invalid JSON: ${detail}`, { expected: 'one JSON object per line', received: show(raw, 80) }));
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push(issue('NOT_AN_OBJECT', at, 'a row must be a JSON object', { expected: '{"text": …, "tasks": {…}}', received: show(value) }));
    return null;
  }
  const record = value as Record<string, unknown>;
  const text = record['text'];
  const count = issues.length;
  if (typeof text !== 'string' || text.trim() === '') {
    const hint = text === undefined ? 'keep the text when predicting: xlmt predict --keep text,lang' : undefined;
    issues.push(issue(text === undefined ? 'MISSING_TEXT' : 'EMPTY_TEXT', at, 'the row needs its text', { field: 'text', expected: 'a non-empty string', received: show(text), ...(hint ? { hint } : {}) }));
  }
  const tasks = record['tasks'];
  if (tasks === null || typeof tasks !== 'object' || Array.isArray(tasks)) {
    issues.push(issue('WRONG_TYPE', at, 'the predictions per task', { field: 'tasks', expected: 'an object of task → {"scores": {label: probability}}', received: jsonType(tasks) }));
    return null;
  }
  const soft = new Map<string, Float32Array>();
  for (const [name, prediction] of Object.entries(tasks as Record<string, unknown>)) {
    const task = schema.tasks.find((t) => t.name === name);
    if (!task) {
      const hint = didYouMean(name, schema.tasks.map((t) => t.name)) ?? `the tasks are ${schema.tasks.map((t) => t.name).join(', ')}`;
      issues.push(issue('UNKNOWN_TASK', at, 'no such task', { field: `tasks.${name}`, received: show(name), hint }));
      continue;
    }
    const probabilities = parseScores(prediction, task, at, issues);
    if (probabilities) soft.set(name, probabilities);
  }
  if (issues.length > count) return null;
  if (soft.size === 0) {
    issues.push(issue('NO_LABELS', at, 'the row has scores for no task', { field: 'tasks', expected: 'scores for at least one task' }));
    return null;
  }
  return { text: text as string, soft, line: at.line };
}

function parseScores(prediction: unknown, task: Task, at: { file: string; line: number }, issues: DataIssue[]): Float32Array | null {
  const field = `tasks.${task.name}.scores`;
  const scores = prediction !== null && typeof prediction === 'object' ? (prediction as Record<string, unknown>)['scores'] : undefined;
  if (scores === null || typeof scores !== 'object' || Array.isArray(scores)) {
    issues.push(issue('WRONG_TYPE', at, 'the label probabilities', { field, expected: 'an object of label → probability', received: jsonType(scores) }));
    return null;
  }
  const given = scores as Record<string, unknown>;
  const out = new Float32Array(task.labels.length);
  const count = issues.length;
  for (const key of Object.keys(given)) {
    if (!task.labels.includes(key)) {
      issues.push(issue('UNKNOWN_LABEL', at, `no such label of ${task.name}`, { field: `${field}.${key}`, received: show(key), hint: didYouMean(key, task.labels) ?? `the labels are ${task.labels.join(', ')}` }));
    }
  }
  task.labels.forEach((label, j) => {
    const p = given[label];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      issues.push(issue('BAD_SCORES', at, 'every label needs a probability', { field: `${field}.${label}`, expected: 'a number from 0 to 1', received: show(p) }));
      return;
    }
    out[j] = p;
  });
  if (issues.length > count) return null;
  if (task.type === 'multiclass') {
    const sum = out.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      issues.push(issue('BAD_SCORES', at, `a multiclass task's probabilities must sum to 1`, { field, expected: `a sum within ${SUM_TOLERANCE} of 1`, received: String(sum) }));
      return null;
    }
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) / sum;
  }
  return out;
}

/**
 * Several teachers' predictions for the same rows (the same texts, line for line, as `xlmt predict` of each
 * teacher on one file writes them) as one ensemble teacher: per row and task, the mean of the probabilities of
 * the teachers that score it.
 */
export async function loadTeachers(files: readonly string[], schema: TaskSchema): Promise<TeacherRow[]> {
  const [first, ...others] = files;
  if (first === undefined) return [];
  const rows = await loadTeacher(first, schema);
  const sums = rows.map((r) => new Map([...r.soft].map(([task, p]) => [task, { sum: Float32Array.from(p), n: 1 }])));
  for (const file of others) {
    const more = await loadTeacher(file, schema);
    if (more.length !== rows.length) {
      throw new DataError([issue('BAD_FORMAT', { file, line: null }, `an ensemble's teachers must score the same rows, line for line`, { expected: `${rows.length} rows, as ${first} has`, received: `${more.length} rows` })]);
    }
    more.forEach((row, i) => {
      const base = rows[i] as TeacherRow;
      if (row.text !== base.text) {
        throw new DataError([issue('BAD_FORMAT', { file, line: row.line }, `an ensemble's teachers must score the same rows, line for line`, { field: 'text', expected: `${show(base.text)} (${first}:${base.line})`, received: show(row.text) })]);
      }
      const sum = sums[i] as Map<string, { sum: Float32Array; n: number }>;
      for (const [task, p] of row.soft) {
        const entry = sum.get(task);
        if (entry) {
          for (let j = 0; j < p.length; j++) entry.sum[j] = (entry.sum[j] as number) + (p[j] as number);
          entry.n++;
        } else {
          sum.set(task, { sum: Float32Array.from(p), n: 1 });
        }
      }
    });
  }
  return rows.map((r, i) => ({ ...r, soft: new Map([...(sums[i] ?? [])].map(([task, { sum, n }]) => [task, sum.map((v) => v / n)])) }));
}

/**
 * A teacher's scores for a task that the same text has a gold label for in the training data are left out: gold
 * wins, and a teacher's output on its own training rows says little. Rows left with no task are left out too.
 */
export function withoutGoldTasks(rows: readonly TeacherRow[], gold: readonly { readonly text: string; readonly labels: ReadonlyMap<string, unknown> }[]): { rows: TeacherRow[]; dropped: number; droppedRows: number } {
  const goldTasks = new Map<string, Set<string>>();
  for (const e of gold) {
    const tasks = goldTasks.get(e.text) ?? new Set<string>();
    for (const task of e.labels.keys()) tasks.add(task);
    goldTasks.set(e.text, tasks);
  }
  let dropped = 0;
  const kept: TeacherRow[] = [];
  for (const row of rows) {
    const labeled = goldTasks.get(row.text);
    const soft = labeled ? new Map([...row.soft].filter(([task]) => !labeled.has(task))) : row.soft;
    dropped += row.soft.size - soft.size;
    if (soft.size > 0) kept.push(soft === row.soft ? row : { ...row, soft });
  }
  return { rows: kept, dropped, droppedRows: rows.length - kept.length };
}

/** Rows per task, as `sentiment 12,000, topic 9,000`. */
export function describeTeacher(rows: readonly TeacherRow[], schema: TaskSchema): string {
  return schema.tasks.map((t) => `${t.name} ${rows.filter((r) => r.soft.has(t.name)).length.toLocaleString('en-US')}`).join(', ');
}

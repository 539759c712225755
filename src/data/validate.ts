// Checks raw rows against a task schema and turns them into examples, collecting every problem on the way.
import { basename } from 'node:path';
import type { Example, LabelValue } from './example.ts';
import { issue, jsonType, show, type DataIssue, type Location } from './issues.ts';
import type { FieldNames, RawRow } from './rows.ts';
import type { Task, TaskSchema } from './schema.ts';
import { didYouMean, oneOf } from './suggest.ts';

export interface ValidateOptions {
  /** Accept rows labeled for no task (unlabeled text). Default false: in a training file such a row is a mistake. */
  readonly allowUnlabeled?: boolean;
  /** The language of rows that name none. */
  readonly defaultLang?: string;
}

export interface Validated {
  readonly examples: Example[];
  readonly issues: DataIssue[];
}

export function validateRows(file: string, rows: readonly RawRow[], fields: FieldNames, schema: TaskSchema, options: ValidateOptions = {}): Validated {
  const examples: Example[] = [];
  const issues: DataIssue[] = [];
  const idLines = new Map<string, number>();
  const fileName = basename(file);
  const taskNames = schema.tasks.map((t) => t.name);
  for (const row of rows) {
    const at = { file, line: row.line };
    const before = issues.length;
    const id = checkId(row, at, fields, fileName, idLines, issues);
    const text = checkText(row.text, at, fields, issues);
    const lang = checkLang(row.lang === undefined ? options.defaultLang : row.lang, at, fields, issues);
    const labels = new Map<string, LabelValue>();
    const entries = labelEntries(row.labels, at, fields, issues);
    for (const [name, value] of entries ?? []) {
      const task = schema.byName.get(name);
      if (task === undefined) {
        const hint = didYouMean(name, taskNames) ?? 'add the task to the task schema, or remove it from the row';
        issues.push(issue('UNKNOWN_TASK', at, 'unknown task', { field: fields.label(name), expected: oneOf(taskNames), received: show(name), hint }));
        continue;
      }
      const label = task.type === 'multiclass' ? multiclassLabel(task, value, at, fields, issues) : multilabelLabels(task, value, at, fields, issues);
      if (label !== null) labels.set(name, label);
    }
    if (entries?.length === 0 && options.allowUnlabeled !== true) {
      const hint = 'label it, remove it, or allow unlabeled rows (allowUnlabeled, --allow-unlabeled)';
      issues.push(issue('NO_LABELS', at, 'the row is labeled for no task', { field: fields.labels, expected: taskNames.length === 0 ? 'labels for at least one task' : `labels for at least one of ${taskNames.join(', ')}`, received: show(row.labels), hint }));
    }
    if (issues.length === before && text !== null && lang !== null) examples.push({ id, text, lang, labels, line: row.line });
  }
  return { examples, issues };
}

function checkId(row: RawRow, at: Location, fields: FieldNames, fileName: string, idLines: Map<string, number>, issues: DataIssue[]): string {
  let id = `${fileName}:${row.line}`;
  if (typeof row.id === 'string' && row.id !== '') id = row.id;
  else if (row.id !== undefined) issues.push(issue('WRONG_TYPE', at, 'an id must be a non-empty string', { field: fields.id, expected: 'a non-empty string', received: show(row.id) }));
  const first = idLines.get(id);
  if (first === undefined) idLines.set(id, row.line);
  else issues.push(issue('DUPLICATE_ID', at, `duplicate id, first used at line ${first}`, { field: fields.id, expected: 'an id no other row has', received: show(id) }));
  return id;
}

function checkText(text: unknown, at: Location, fields: FieldNames, issues: DataIssue[]): string | null {
  if (typeof text === 'string' && text.trim() !== '') return text;
  if (text === undefined) issues.push(issue('MISSING_TEXT', at, 'the row has no text', { field: fields.text, expected: 'a non-empty string', received: 'nothing' }));
  else if (typeof text !== 'string') issues.push(issue('WRONG_TYPE', at, 'the text must be a string', { field: fields.text, expected: 'a non-empty string', received: jsonType(text) }));
  else issues.push(issue('EMPTY_TEXT', at, 'the text is empty', { field: fields.text, expected: 'a non-empty string', received: show(text) }));
  return null;
}

function checkLang(lang: unknown, at: Location, fields: FieldNames, issues: DataIssue[]): string | null {
  if (typeof lang === 'string' && lang !== '' && !/\s/.test(lang)) return lang;
  const details = { field: fields.lang, expected: 'a language code such as "en"', received: lang === undefined ? 'nothing' : show(lang) };
  if (lang === undefined || lang === '') issues.push(issue('MISSING_LANG', at, 'the row has no language', { ...details, hint: 'add one, or set a default language (defaultLang, --lang)' }));
  else if (typeof lang !== 'string') issues.push(issue('WRONG_TYPE', at, 'the language must be a string', details));
  else issues.push(issue('WRONG_TYPE', at, 'the language code must not contain whitespace', details));
  return null;
}

/** The row's task → value pairs; null when `labels` is not an object (reported here, so NO_LABELS does not repeat it). */
function labelEntries(labels: unknown, at: Location, fields: FieldNames, issues: DataIssue[]): [string, unknown][] | null {
  if (labels === undefined) return [];
  if (labels !== null && typeof labels === 'object' && !Array.isArray(labels)) return Object.entries(labels);
  const hint = 'write {"task": "label"} for a multiclass task, {"task": ["label", …]} for a multilabel one';
  issues.push(issue('WRONG_TYPE', at, 'labels must be an object of task → label', { field: fields.labels, expected: 'object', received: jsonType(labels), hint }));
  return null;
}

function multiclassLabel(task: Task, value: unknown, at: Location, fields: FieldNames, issues: DataIssue[]): number | null {
  const field = fields.label(task.name);
  if (typeof value !== 'string') {
    const single = Array.isArray(value) && value.length === 1 && typeof value[0] === 'string' ? `write ${JSON.stringify(value[0])} without brackets: ` : '';
    const hint = `${single}a multiclass task takes exactly one label`;
    issues.push(issue('WRONG_LABEL_TYPE', at, `wrong label type for multiclass task ${task.name}`, { field, expected: 'one label (a string)', received: `${jsonType(value)} ${show(value)}`, hint }));
    return null;
  }
  return lookup(task, value, field, at, issues);
}

function multilabelLabels(task: Task, value: unknown, at: Location, fields: FieldNames, issues: DataIssue[]): number[] | null {
  const field = fields.label(task.name);
  if (!Array.isArray(value)) {
    const hint = typeof value === 'string' ? `write [${JSON.stringify(value)}]; [] means none of the labels` : '[] means none of the labels';
    issues.push(issue('WRONG_LABEL_TYPE', at, `wrong label type for multilabel task ${task.name}`, { field, expected: 'an array of labels', received: `${jsonType(value)} ${show(value)}`, hint }));
    return null;
  }
  const indices: number[] = [];
  const seen = new Set<string>();
  let ok = true;
  value.forEach((label: unknown, i) => {
    const at_i = `${field}[${i}]`;
    if (typeof label !== 'string') {
      issues.push(issue('WRONG_LABEL_TYPE', at, `wrong label type for multilabel task ${task.name}`, { field: at_i, expected: 'a label (a string)', received: `${jsonType(label)} ${show(label)}` }));
      ok = false;
    } else if (seen.has(label)) {
      issues.push(issue('DUPLICATE_LABEL', at, 'the label is listed twice', { field: at_i, expected: 'each label at most once', received: show(label) }));
      ok = false;
    } else {
      seen.add(label);
      const index = lookup(task, label, at_i, at, issues);
      if (index === null) ok = false;
      else indices.push(index);
    }
  });
  return ok ? indices.sort((a, b) => a - b) : null;
}

function lookup(task: Task, label: string, field: string, at: Location, issues: DataIssue[]): number | null {
  const index = task.index.get(label);
  if (index !== undefined) return index;
  const hint = label === '' ? 'an empty label: check for doubled or trailing separators' : didYouMean(label, task.labels);
  const details = { field, expected: oneOf(task.labels), received: show(label) };
  issues.push(issue('UNKNOWN_LABEL', at, `unknown label for task ${task.name}`, hint === undefined ? details : { ...details, hint }));
  return null;
}

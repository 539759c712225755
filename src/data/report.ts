// Dataset statistics as plain-text tables: one task × language × label table per task.
import type { Dataset } from './dataset.ts';
import type { TaskSchema } from './schema.ts';
import type { DatasetStats, LabelCounts, TaskStats } from './stats.ts';

const count = (n: number): string => n.toLocaleString('en-US');

export function renderStats(dataset: Dataset, stats: DatasetStats): string {
  const langs = Object.entries(stats.rowsByLang);
  const lines = [
    `file       ${dataset.file} (${dataset.format})`,
    `rows       ${count(stats.rows)} in ${langs.length} language${langs.length === 1 ? '' : 's'}, ${count(stats.unlabeledRows)} labeled for no task`,
    `schema     ${describeSchema(dataset.schema)}`,
    `languages  ${langs.map(([lang, n]) => `${lang} ${count(n)}`).join(', ')}`,
  ];
  for (const task of stats.tasks) lines.push('', ...taskTable(task, dataset.schema.byName.get(task.task)?.labels ?? Object.keys(task.labels)));
  return lines.join('\n');
}

export function describeSchema(schema: TaskSchema): string {
  const tasks = schema.tasks.map((t) => `${t.name} ${t.type} (${t.labels.length} label${t.labels.length === 1 ? '' : 's'})`).join(', ');
  if (schema.origin.kind === 'inferred') {
    return `inferred from the data, no task schema given: ${tasks || 'no tasks'} (labels sorted; strings mean multiclass, arrays multilabel)`;
  }
  return `${schema.origin.file ?? 'inline'}: ${tasks}`;
}

// Labels come in schema order: record keys would put integer-like labels ("1"…"5") first, whatever the schema says.
function taskTable(task: TaskStats, labelOrder: readonly string[]): string[] {
  const perLabel = task.type === 'multilabel' ? '; a row counts once for each of its labels' : '';
  const title = `${task.task} (${task.type}): ${count(task.labeled)} rows labeled, ${count(task.unlabeled)} not${perLabel}`;
  const langs = Object.entries(task.byLang).filter(([, c]) => c.labeled > 0);
  if (langs.length === 0) return [title];
  const columns: [string, LabelCounts][] = [...langs, ['total', task]];
  const body: [string, (c: LabelCounts) => number][] = labelOrder.map((label) => [label, (c) => c.labels[label] ?? 0]);
  if (task.type === 'multilabel') body.push(['[] (none)', (c) => c.emptySet]);
  body.push(['rows', (c) => c.labeled]);
  const cells = [['label', ...columns.map(([name]) => name)], ...body.map(([label, get]) => [label, ...columns.map(([, c]) => count(get(c)))])];
  const widths = columns.map((_, j) => Math.max(...cells.map((row) => (row[j + 1] ?? '').length)));
  const first = Math.max(...cells.map((row) => (row[0] ?? '').length));
  return [title, ...cells.map((row) => [(row[0] ?? '').padEnd(first), ...widths.map((w, j) => (row[j + 1] ?? '').padStart(w))].join('  ').trimEnd())];
}

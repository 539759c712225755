// Counts of a dataset: rows per language, and per task × language × label, with unlabeled and empty-set rows.
import type { Dataset } from './dataset.ts';
import type { TaskType } from './schema.ts';

export interface LabelCounts {
  /** Rows labeled for the task. */
  readonly labeled: number;
  /** Rows not labeled for the task. */
  readonly unlabeled: number;
  /** Multilabel rows labeled with none of the labels (`[]`); always 0 for a multiclass task. */
  readonly emptySet: number;
  /** Label → rows carrying it, in schema order; a multilabel row counts once for each of its labels. */
  readonly labels: Readonly<Record<string, number>>;
}

export interface TaskStats extends LabelCounts {
  readonly task: string;
  readonly type: TaskType;
  /** Every language of the dataset, sorted, including those with no row labeled for this task. */
  readonly byLang: Readonly<Record<string, LabelCounts>>;
}

export interface DatasetStats {
  readonly rows: number;
  /** Rows labeled for no task (possible only when unlabeled rows were allowed). */
  readonly unlabeledRows: number;
  /** Sorted by language code. */
  readonly rowsByLang: Readonly<Record<string, number>>;
  readonly tasks: readonly TaskStats[];
}

interface Tally {
  labeled: number;
  emptySet: number;
  readonly counts: number[];
}

export function datasetStats(dataset: Dataset): DatasetStats {
  const { tasks } = dataset.schema;
  const rowsByLang = new Map<string, number>();
  // tallies[task][lang]: one counts array per pair, indexed like the task's labels.
  const tallies = tasks.map(() => new Map<string, Tally>());
  let unlabeledRows = 0;
  for (const ex of dataset.examples) {
    rowsByLang.set(ex.lang, (rowsByLang.get(ex.lang) ?? 0) + 1);
    if (ex.labels.size === 0) unlabeledRows++;
    tasks.forEach((task, t) => {
      const value = ex.labels.get(task.name);
      if (value === undefined) return;
      const byLang = tallies[t] ?? new Map<string, Tally>();
      let tally = byLang.get(ex.lang);
      if (tally === undefined) {
        tally = { labeled: 0, emptySet: 0, counts: task.labels.map(() => 0) };
        byLang.set(ex.lang, tally);
      }
      tally.labeled++;
      const indices = typeof value === 'number' ? [value] : value;
      if (indices.length === 0) tally.emptySet++;
      for (const i of indices) tally.counts[i] = (tally.counts[i] ?? 0) + 1;
    });
  }
  const langs = [...rowsByLang.keys()].sort();
  const taskStats = tasks.map((task, t): TaskStats => {
    const byLang = tallies[t] ?? new Map<string, Tally>();
    const perLang = langs.map((lang): [string, LabelCounts] => {
      const tally = byLang.get(lang) ?? { labeled: 0, emptySet: 0, counts: task.labels.map(() => 0) };
      return [lang, counts(task.labels, tally, rowsByLang.get(lang) ?? 0)];
    });
    const total: Tally = { labeled: 0, emptySet: 0, counts: task.labels.map(() => 0) };
    for (const tally of byLang.values()) {
      total.labeled += tally.labeled;
      total.emptySet += tally.emptySet;
      tally.counts.forEach((n, i) => (total.counts[i] = (total.counts[i] ?? 0) + n));
    }
    return { task: task.name, type: task.type, ...counts(task.labels, total, dataset.examples.length), byLang: Object.fromEntries(perLang) };
  });
  return { rows: dataset.examples.length, unlabeledRows, rowsByLang: Object.fromEntries(langs.map((l) => [l, rowsByLang.get(l) ?? 0])), tasks: taskStats };
}

function counts(labels: readonly string[], tally: Tally, rows: number): LabelCounts {
  return {
    labeled: tally.labeled,
    unlabeled: rows - tally.labeled,
    emptySet: tally.emptySet,
    // fromEntries defines own properties, so a label such as "__proto__" is counted like any other.
    labels: Object.fromEntries(labels.map((l, i) => [l, tally.counts[i] ?? 0])),
  };
}

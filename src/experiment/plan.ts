// What an experiment trains: the filtered data each variant sees, one run per (variant, scope, seed), and the
// (task, language) cells left out for lack of data. Pure: reads no file and trains nothing.
//
// Variants (Campos et al. 2022, Tables 4 and 5):
//   multi-task   one model on every selected task and language                 data/multi-task
//   single-task  one model per task, on the rows labeled for it (all languages)  data/single-task/<task>
//   monolingual  one model per (task, language), on that language's rows alone  data/monolingual/<task>/<lang>
// The single-task model is both the multi-task table's reference and the cross-lingual table's cross-lingual
// model, so it is trained once for both.
import { join } from 'node:path';
import { makeSchema, type Example, type TaskSchema } from '../data/index.ts';
import { didYouMean, oneOf } from '../data/suggest.ts';
import { XlmtError } from '../errors/index.ts';
import { checkSeeds, type Comparison } from './options.ts';

export type Variant = 'multi-task' | 'single-task' | 'monolingual';

export interface ExperimentOptions {
  readonly compare: readonly Comparison[];
  readonly seeds: readonly number[];
  /** Tasks to compare; every task of the schema when omitted. */
  readonly tasks?: readonly string[];
  /** Languages to train and evaluate on; every language of the training data when omitted. */
  readonly languages?: readonly string[];
  /** A monolingual model needs at least this many training rows. */
  readonly minRows: number;
}

/** `--min-rows` when not given: below about 20 rows a monolingual model's score is mostly noise. */
export const DEFAULT_MIN_ROWS = 20;

export interface DataSubset {
  /** Its directory under DIR/data, which also names it: `multi-task`, `single-task/<task>`, `monolingual/<task>/<lang>`. */
  readonly path: string;
  readonly schema: TaskSchema;
  readonly train: readonly Example[];
  readonly dev: readonly Example[];
}

export interface PlannedRun {
  readonly variant: Variant;
  /** The one task trained; null for the multi-task model. */
  readonly task: string | null;
  /** The one training language of a monolingual model; null otherwise. */
  readonly lang: string | null;
  readonly seed: number;
  /** The DataSubset it trains and is evaluated on. */
  readonly data: string;
  /** Under DIR: runs/<variant>/<scope>/seed-<n>, the scope being `all`, `<task>` or `<task>/<lang>`. */
  readonly dir: string;
}

export interface SkippedCell {
  readonly task: string;
  readonly lang: string;
  readonly trainRows: number;
  readonly devRows: number;
  readonly reason: string;
}

export interface ExperimentPlan {
  readonly compare: readonly Comparison[];
  readonly seeds: readonly number[];
  /** In schema order. */
  readonly tasks: readonly string[];
  /** Sorted by code unit. */
  readonly languages: readonly string[];
  readonly data: readonly DataSubset[];
  /** Seed by seed (all of seed 1's runs first), so an interrupted experiment has whole seeds done. */
  readonly runs: readonly PlannedRun[];
  readonly skipped: readonly SkippedCell[];
  /** Dev rows whose language has no training rows: left out of every dev file, counted per language. */
  readonly unseenDevLanguages: Readonly<Record<string, number>>;
}

// Languages become directory names of monolingual runs: no separators, no dot-only names.
const PATH_SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function planExperiment(schema: TaskSchema, train: readonly Example[], dev: readonly Example[], options: ExperimentOptions): ExperimentPlan {
  const seeds = checkSeeds(options.seeds);
  if (options.compare.length === 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--compare' }, message: 'no comparison', expected: '"crosslingual", "multitask" or both', received: 'nothing' });
  }
  if (!Number.isInteger(options.minRows) || options.minRows < 1) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--min-rows' }, message: 'not a row count', expected: 'an integer >= 1', received: String(options.minRows) });
  }
  const compare = [...new Set(options.compare)];
  const tasks = selectTasks(schema, options.tasks);
  const trainLangs = sortedUnique(train.map((e) => e.lang));
  const languages = selectLanguages(trainLangs, options.languages);
  const taskSet = new Set(tasks);
  const langSet = new Set(languages);
  const trainRows = filterRows(train, taskSet, langSet);
  const devRows = filterRows(dev, taskSet, langSet);
  checkTaskData(tasks, trainRows, devRows);
  if (compare.includes('multitask') && tasks.length < 2) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--compare' }, message: `multi-task against single-task needs at least two tasks, the selection has ${tasks.length}`, received: tasks.join(', '), hint: `Select two or more of ${oneOf(schema.tasks.map((t) => t.name))} with --tasks, or use --compare crosslingual` });
  }
  if (compare.includes('crosslingual')) {
    if (languages.length < 2) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--compare' }, message: `cross-lingual against monolingual needs at least two languages, the selection has ${languages.length}`, received: languages.join(', '), hint: `Select two or more of ${oneOf(trainLangs)} with --languages, or use --compare multitask` });
    }
    const unsafe = languages.find((l) => !PATH_SAFE.test(l));
    if (unsafe !== undefined) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--languages' }, message: `language "${unsafe}" cannot name a run directory`, expected: 'letters, digits, "_", "-", "."', received: JSON.stringify(unsafe), hint: 'Leave it out with --languages' });
    }
  }

  const data: DataSubset[] = [];
  const subset = (path: string, names: readonly string[], trainPart: readonly Example[], devPart: readonly Example[]): string => {
    const chosen = new Set(names);
    const restricted = makeSchema(schema.tasks.filter((t) => chosen.has(t.name)), { kind: 'inline', file: null });
    data.push({ path, schema: restricted, train: restrictLabels(trainPart, chosen), dev: restrictLabels(devPart, chosen) });
    return path;
  };
  const labeledFor = (rows: readonly Example[], task: string): Example[] => rows.filter((e) => e.labels.has(task));

  const multiTask = compare.includes('multitask') ? subset('multi-task', tasks, trainRows, devRows) : null;
  const singleTask = tasks.map((task) => ({ task, data: subset(join('single-task', task), [task], labeledFor(trainRows, task), labeledFor(devRows, task)) }));
  const monolingual: { task: string; lang: string; data: string }[] = [];
  const skipped: SkippedCell[] = [];
  if (compare.includes('crosslingual')) {
    for (const task of tasks) {
      for (const lang of languages) {
        const t = labeledFor(trainRows, task).filter((e) => e.lang === lang);
        const d = labeledFor(devRows, task).filter((e) => e.lang === lang);
        const reason = t.length < options.minRows ? `${t.length} training rows, fewer than --min-rows ${options.minRows}` : d.length === 0 ? 'no dev rows' : null;
        if (reason !== null) skipped.push({ task, lang, trainRows: t.length, devRows: d.length, reason });
        else monolingual.push({ task, lang, data: subset(join('monolingual', task, lang), [task], t, d) });
      }
    }
    if (monolingual.length === 0) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--compare' }, message: 'no (task, language) has enough data for a monolingual model', received: skipped.map((s) => `${s.task}/${s.lang}: ${s.reason}`).join('; '), hint: 'Lower --min-rows or add data' });
    }
  }

  const runs: PlannedRun[] = [];
  for (const seed of seeds) {
    const run = (variant: Variant, task: string | null, lang: string | null, dataPath: string, scope: string): void => {
      runs.push({ variant, task, lang, seed, data: dataPath, dir: join('runs', variant, scope, `seed-${seed}`) });
    };
    if (multiTask !== null) run('multi-task', null, null, multiTask, 'all');
    for (const s of singleTask) run('single-task', s.task, null, s.data, s.task);
    for (const m of monolingual) run('monolingual', m.task, m.lang, m.data, join(m.task, m.lang));
  }

  const unseenDevLanguages: Record<string, number> = {};
  for (const e of dev) if (!trainLangs.includes(e.lang)) unseenDevLanguages[e.lang] = (unseenDevLanguages[e.lang] ?? 0) + 1;
  return { compare, seeds, tasks, languages, data, runs, skipped, unseenDevLanguages };
}

function selectTasks(schema: TaskSchema, wanted: readonly string[] | undefined): string[] {
  const all = schema.tasks.map((t) => t.name);
  if (wanted === undefined) return all;
  const unknown = wanted.find((t) => !schema.byName.has(t));
  if (unknown !== undefined) {
    const hint = didYouMean(unknown, all);
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--tasks' }, message: `unknown task "${unknown}"`, expected: oneOf(all), received: JSON.stringify(unknown), ...(hint ? { hint: capitalize(hint) } : {}) });
  }
  return all.filter((t) => wanted.includes(t));
}

function selectLanguages(known: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined) return [...known];
  const unknown = wanted.find((l) => !known.includes(l));
  if (unknown !== undefined) {
    const hint = didYouMean(unknown, known);
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--languages' }, message: `no training row has language "${unknown}"`, expected: oneOf(known), received: JSON.stringify(unknown), ...(hint ? { hint: capitalize(hint) } : {}) });
  }
  return sortedUnique(wanted);
}

/** Every selected task needs training rows to learn from and dev rows to be scored on. */
function checkTaskData(tasks: readonly string[], train: readonly Example[], dev: readonly Example[]): void {
  for (const [rows, file] of [[train, 'train'], [dev, 'dev']] as const) {
    const empty = tasks.filter((t) => !rows.some((e) => e.labels.has(t)));
    if (empty.length > 0) {
      throw new XlmtError({ code: 'NO_LABELED_EXAMPLES', where: { field: file }, message: `no ${file} row in the selected languages is labeled for ${empty.map((t) => `"${t}"`).join(', ')}`, hint: 'Leave the task out with --tasks, or select languages that have it with --languages' });
    }
  }
}

/** Rows in the selected languages that carry at least one selected task. */
function filterRows(rows: readonly Example[], tasks: ReadonlySet<string>, langs: ReadonlySet<string>): Example[] {
  return rows.filter((e) => langs.has(e.lang) && [...e.labels.keys()].some((t) => tasks.has(t)));
}

/** The same rows with labels for the given tasks only (rows carrying none of them are dropped). */
function restrictLabels(rows: readonly Example[], tasks: ReadonlySet<string>): Example[] {
  return rows.flatMap((e) => {
    const labels = new Map([...e.labels].filter(([t]) => tasks.has(t)));
    return labels.size === 0 ? [] : [{ ...e, labels }];
  });
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

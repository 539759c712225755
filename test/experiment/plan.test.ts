// Planning an experiment: which data each variant sees, which runs exist, what is skipped, and the option errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, loadTaskSchema, makeSchema, makeTask, type Example, type TaskSchema } from '../../src/data/index.ts';
import { XlmtError } from '../../src/errors/index.ts';
import { exampleLine, parseComparisons, parseList, parseSeeds, planExperiment, type ExperimentOptions } from '../../src/experiment/index.ts';
import { runFixture } from '../train/fixtures.ts';

let schema: TaskSchema;
let train: readonly Example[];
let dev: readonly Example[];

beforeAll(async () => {
  const fixture = await runFixture();
  schema = await loadTaskSchema(fixture.tasks);
  train = (await loadDataset(fixture.train, { schema })).examples;
  dev = (await loadDataset(fixture.dev, { schema })).examples;
});

const both: ExperimentOptions = { compare: ['crosslingual', 'multitask'], seeds: [1, 2], minRows: 20 };

function errorOf(f: () => unknown): XlmtError {
  try {
    f();
  } catch (e) {
    if (e instanceof XlmtError) return e;
    throw e;
  }
  throw new Error('expected an XlmtError');
}

describe('planExperiment', () => {
  it('gives every variant its filtered data and one run per scope and seed, seed by seed', () => {
    const plan = planExperiment(schema, train, dev, both);
    expect(plan.tasks).toEqual(['sentiment', 'topics']);
    expect(plan.languages).toEqual(['de', 'en']);
    // The fixture labels row i for sentiment unless i % 3 = 1 and for topics unless i % 3 = 0; even rows are en.
    const counts = Object.fromEntries(plan.data.map((d) => [d.path, [d.train.length, d.dev.length]]));
    expect(counts).toEqual({
      'multi-task': [120, 40],
      'single-task/sentiment': [80, 27],
      'single-task/topics': [80, 26],
      'monolingual/sentiment/de': [40, 13],
      'monolingual/sentiment/en': [40, 14],
      'monolingual/topics/de': [40, 13],
      'monolingual/topics/en': [40, 13],
    });
    const single = plan.data.find((d) => d.path === 'single-task/topics');
    expect(single?.schema.tasks.map((t) => t.name)).toEqual(['topics']);
    expect(single?.train.every((e) => [...e.labels.keys()].join() === 'topics')).toBe(true);
    expect(plan.runs.map((r) => r.dir)).toEqual([1, 2].flatMap((s) => [
      `runs/multi-task/all/seed-${s}`,
      `runs/single-task/sentiment/seed-${s}`,
      `runs/single-task/topics/seed-${s}`,
      `runs/monolingual/sentiment/de/seed-${s}`,
      `runs/monolingual/sentiment/en/seed-${s}`,
      `runs/monolingual/topics/de/seed-${s}`,
      `runs/monolingual/topics/en/seed-${s}`,
    ]));
    expect(plan.skipped).toEqual([]);
  });

  it('trains only what the chosen comparison needs', () => {
    const multi = planExperiment(schema, train, dev, { ...both, compare: ['multitask'], seeds: [7] });
    expect(multi.runs.map((r) => `${r.variant}:${r.task ?? ''}`)).toEqual(['multi-task:', 'single-task:sentiment', 'single-task:topics']);
    const cross = planExperiment(schema, train, dev, { ...both, compare: ['crosslingual'], tasks: ['topics'], seeds: [7] });
    expect(cross.runs.map((r) => r.dir)).toEqual(['runs/single-task/topics/seed-7', 'runs/monolingual/topics/de/seed-7', 'runs/monolingual/topics/en/seed-7']);
    expect(cross.data.map((d) => d.path)).toEqual(['single-task/topics', 'monolingual/topics/de', 'monolingual/topics/en']);
  });

  it('restricts every variant to the selected languages', () => {
    const plan = planExperiment(schema, train, dev, { ...both, compare: ['multitask'], languages: ['en'] });
    expect(plan.data.find((d) => d.path === 'multi-task')?.train.every((e) => e.lang === 'en')).toBe(true);
    expect(plan.data.find((d) => d.path === 'multi-task')?.train).toHaveLength(60);
  });

  it('skips a (task, language) with too few training rows or no dev rows, and reports it', () => {
    const t = makeTask('sentiment', 'multiclass', ['negative', 'positive']);
    const small = makeSchema([t], { kind: 'inline', file: null });
    const row = (id: string, lang: string): Example => ({ id, text: 'x', lang, labels: new Map([['sentiment', 0]]), line: 1 });
    const trainRows = [...Array.from({ length: 30 }, (_, i) => row(`en${i}`, 'en')), ...Array.from({ length: 5 }, (_, i) => row(`de${i}`, 'de')), ...Array.from({ length: 25 }, (_, i) => row(`fr${i}`, 'fr'))];
    const devRows = [row('d1', 'en'), row('d2', 'de'), row('d3', 'ja')];
    const plan = planExperiment(small, trainRows, devRows, { compare: ['crosslingual'], seeds: [1], minRows: 20 });
    expect(plan.skipped).toEqual([
      { task: 'sentiment', lang: 'de', trainRows: 5, devRows: 1, reason: '5 training rows, fewer than --min-rows 20' },
      { task: 'sentiment', lang: 'fr', trainRows: 25, devRows: 0, reason: 'no dev rows' },
    ]);
    expect(plan.runs.map((r) => r.dir)).toEqual(['runs/single-task/sentiment/seed-1', 'runs/monolingual/sentiment/en/seed-1']);
    expect(plan.unseenDevLanguages).toEqual({ ja: 1 });
    expect(errorOf(() => planExperiment(small, trainRows, devRows, { compare: ['crosslingual'], seeds: [1], minRows: 31 })).where).toEqual({ field: '--compare' });
  });

  it('names unknown tasks and languages with the valid ones', () => {
    const task = errorOf(() => planExperiment(schema, train, dev, { ...both, tasks: ['sentimnet'] }));
    expect(task.code).toBe('BAD_OPTION');
    expect(task.where).toEqual({ field: '--tasks' });
    expect(task.message).toBe('--tasks: unknown task "sentimnet" (expected one of "sentiment", "topics"; received "sentimnet"). Did you mean "sentiment"?');
    const lang = errorOf(() => planExperiment(schema, train, dev, { ...both, languages: ['en', 'fr'] }));
    expect(lang.code).toBe('BAD_OPTION');
    expect(lang.where).toEqual({ field: '--languages' });
    expect(lang.message).toBe('--languages: no training row has language "fr" (expected one of "de", "en"; received "fr")');
  });

  it('refuses comparisons the selection cannot support', () => {
    const oneTask = errorOf(() => planExperiment(schema, train, dev, { ...both, tasks: ['topics'] }));
    expect(oneTask.code).toBe('BAD_OPTION');
    expect(oneTask.message).toMatch(/^--compare: multi-task against single-task needs at least two tasks, the selection has 1 .*--compare crosslingual/);
    const oneLang = errorOf(() => planExperiment(schema, train, dev, { ...both, languages: ['de'] }));
    expect(oneLang.code).toBe('BAD_OPTION');
    expect(oneLang.message).toMatch(/cross-lingual against monolingual needs at least two languages/);
    const noDev = errorOf(() => planExperiment(schema, train, dev.filter((e) => !e.labels.has('topics')), both));
    expect(noDev.code).toBe('NO_LABELED_EXAMPLES');
    expect(noDev.kind).toBe('input');
    expect(noDev.where).toEqual({ field: 'dev' });
    expect(noDev.message).toMatch(/no dev row in the selected languages is labeled for "topics"/);
  });
});

describe('experiment options', () => {
  it('parses seeds and refuses bad ones', () => {
    expect(parseSeeds('1, 2,3')).toEqual([1, 2, 3]);
    expect(errorOf(() => parseSeeds('1,x')).message).toBe('--seeds: "x" is not a seed (expected comma-separated integers >= 0 such as "1,2,3"; received "1,x")');
    expect(errorOf(() => parseSeeds('1,-2'))).toMatchObject({ code: 'BAD_OPTION', where: { field: '--seeds' } });
    expect(errorOf(() => parseSeeds('1.5')).code).toBe('BAD_OPTION');
    expect(errorOf(() => parseSeeds('')).code).toBe('BAD_OPTION');
    expect(errorOf(() => parseSeeds('3,3')).message).toMatch(/seed 3 is listed twice/);
    expect(errorOf(() => planExperiment(schema, train, dev, { ...both, seeds: [] })).message).toMatch(/^--seeds: no seed/);
  });

  it('parses comparisons and lists', () => {
    expect(parseComparisons('multitask,crosslingual')).toEqual(['multitask', 'crosslingual']);
    expect(errorOf(() => parseComparisons('multi-task')).message).toBe('--compare: unknown comparison "multi-task" (expected "crosslingual" or "multitask"; received "multi-task")');
    expect(parseList('--tasks', 'a, b,a')).toEqual(['a', 'b']);
    expect(errorOf(() => parseList('--tasks', 'a,,b')).code).toBe('BAD_OPTION');
  });

  it('writes rows back in the dataset format with their ids and label names', () => {
    const row = train.find((e) => e.labels.has('sentiment') && e.labels.has('topics')) as Example;
    const json = JSON.parse(exampleLine(row, schema)) as { id: string; labels: Record<string, unknown> };
    expect(json.id).toBe(row.id);
    expect(typeof json.labels.sentiment).toBe('string');
    expect(Array.isArray(json.labels.topics)).toBe(true);
  });
});

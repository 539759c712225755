// xlmt compress --search on a tiny teacher: shapes timed, candidates made with the pipeline's steps until one is
// within the budget, the report and the Pareto picture written; run again exhaustive, it reuses what was made.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompressEvents } from '../../src/compress/pipeline/run.ts';
import { runSearch, type SearchOptions } from '../../src/compress/search/run.ts';
import { parseSpace } from '../../src/compress/search/space.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let teacher: string;

beforeAll(async () => {
  data = await runFixture(60, 30);
  teacher = await trainedRun(data, { layers: 2, epochs: 3, lr: 3e-3 });
}, 120_000);

const SPACE = {
  layers: [1, 0.5], headsFfn: [1], students: [], int8: [false, true], trimVocab: [false],
  train: { epochs: 1, settings: { batchSize: 8, lr: 1e-3, groupWindow: 0, checkpointEvery: 4, patience: 0 } },
};

function options(out: string, over: Partial<SearchOptions> = {}): SearchOptions {
  return {
    teacher, train: data.train, dev: data.dev, tasks: data.tasks, space: parseSpace(SPACE, 'test'), budget: { mean: 99 }, exhaustive: false,
    out: join(data.dir, out), threads: 1, speed: { batch: 4, seq: 16, iterations: 1, threads: 1 }, ...over,
  };
}

const events = (): CompressEvents & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, log: (l) => lines.push(l) };
};

describe('the budget search', () => {
  it('scores the untrained candidates first, then the fastest expected, reports as it goes, and reuses everything when run again exhaustive', async () => {
    const first = events();
    const o = options('search');
    const reports: string[] = [];
    const result = await runSearch(o, { ...first, onLine: () => { if (existsSync(join(o.out, 'search.md'))) reports.push(readFileSync(join(o.out, 'search.md'), 'utf8')); } });
    // Three candidates: the teacher int8 (nothing to train: tried first, and within a 99% budget), then the one-layer
    // model fp32 and int8, whichever is expected faster first (on so small a shape int8 need not be): within too, it
    // is the answer, and the other is tried only if it is expected faster than the teacher int8 and is not.
    expect(result.outcomes[0]?.id).toBe('int8');
    expect(result.first).toBe('int8');
    const trained = result.outcomes[1];
    expect(trained?.id).toMatch(/^layers-1\.train/);
    expect(trained?.expected).toBeGreaterThan(result.outcomes[0]?.expected as number);
    expect(result.answer).toBe(trained?.id);
    expect(result.outcomes[2]?.status).toBe('not tried');
    const answer = result.lines[result.answer as string];
    expect(answer?.speedup).toBeGreaterThan(0);
    expect(existsSync(join(o.out, 'reports', `${result.answer}.md`))).toBe(true);
    // While it ran, the report after the first candidate already named it as the answer so far.
    expect(reports.some((r) => r.includes('**Answer so far: int8 (') && r.includes('**In progress: 1 candidate decided so far.**'))).toBe(true);
    const report = readFileSync(join(o.out, 'search.md'), 'utf8');
    expect(report).toMatch(/\*\*Answer: layers-1\.train(\.int8)? \(.*\), decided at \d+\.\d min of search\.\*\* The first within the budget: int8, at \d+\.\d min\./);
    expect(report).not.toContain('In progress');
    expect(report).toMatch(/not tried: expected no faster than layers-1\.train/);
    expect(readFileSync(join(o.out, 'pareto.svg'), 'utf8').match(/<circle /g)?.length).toBe(3); // the teacher, int8 and the answer
    const state = JSON.parse(readFileSync(join(o.out, 'search.json'), 'utf8')) as { spent: Record<string, number> };
    expect(Object.keys(state.spent).sort()).toEqual(['int8', result.answer as string, 'teacher', 'timing'].sort());
    for (const seconds of Object.values(state.spent)) expect(seconds).toBeGreaterThan(0);

    const again = events();
    const all = await runSearch({ ...o, exhaustive: true, budget: { mean: 50 } }, again);
    expect(all.outcomes.every((x) => x.status !== 'not tried')).toBe(true);
    expect(again.lines.some((l) => l.startsWith('== timing'))).toBe(false); // timings kept
    // The layer pruned and trained once, its int8 export from the same training.
    const made = JSON.parse(readFileSync(join(o.out, 'search.json'), 'utf8')) as { made: Record<string, string> };
    expect(Object.keys(made.made).sort()).toEqual(['int8', 'layers-1', 'layers-1.train', 'layers-1.train.int8']);
    expect(readFileSync(join(o.out, 'pareto.svg'), 'utf8').match(/<circle /g)?.length).toBe(4);
    // The training's checkpoint was slimmed to its progress once its step was recorded; its best model, which the
    // int8 export read, stayed.
    expect(readdirSync(join(o.out, 'layers-1.train', 'checkpoints', 'last')).filter((f) => !f.startsWith('.')).sort()).toEqual(['progress.json']);
    expect(existsSync(join(o.out, 'layers-1.train', 'best', 'model.safetensors'))).toBe(true);
  }, 180_000);

  it('lets the space grow or shrink on resume, timing only new shapes, and refuses a step redefined or other data', async () => {
    const o = options('search');
    const state = (): { made: Record<string, string>; steps: Record<string, unknown>; timings: Record<string, unknown> } => JSON.parse(readFileSync(join(o.out, 'search.json'), 'utf8'));
    const before = state();
    // Fewer candidates: nothing made again, nothing timed.
    const fewer = events();
    await runSearch({ ...o, space: parseSpace({ ...SPACE, layers: [0.5] }, 'test'), exhaustive: true, budget: { mean: 50 } }, fewer);
    expect(fewer.lines.some((l) => l.startsWith('== timing') || l.startsWith('== layers'))).toBe(false);
    // A new student shape: timed alone beside the teacher, the earlier shapes' timings and steps kept.
    const grown = events();
    const space = parseSpace({ ...SPACE, students: [{ layers: 0.5, hidden: 0.5 }], int8: [true] }, 'test');
    const result = await runSearch({ ...o, space, exhaustive: true, budget: { mean: 50 } }, grown);
    expect(grown.lines.filter((l) => l.startsWith('== timing'))).toEqual(["== timing 1 shape and the teacher's, fp32 and int8, random weights"]);
    // The student learned from the teacher's logits that the first candidate's training left in the search's cache.
    expect(grown.lines.filter((l) => l.startsWith('teacher cache:'))).toEqual([expect.stringMatching(/^teacher cache: [1-9]\d* rows read from .*, 0 computed/)]);
    const after = state();
    for (const [key, t] of Object.entries(before.timings)) expect(after.timings[key]).toEqual(t);
    expect(Object.keys(after.timings)).toContain('student-1x8');
    expect(Object.keys(after.made)).toEqual(expect.arrayContaining([...Object.keys(before.made), 'student-1x8', 'student-1x8.train']));
    expect(result.outcomes.map((x) => x.id).sort()).toEqual(['int8', 'layers-1.train.int8', 'student-1x8.train.int8']);
    expect(result.outcomes.every((x) => x.status !== 'not tried')).toBe(true);
    // A step made with other settings, and other data, are refused, naming the step or the run.
    const redefined = parseSpace({ ...SPACE, train: { ...SPACE.train, epochs: 2 } }, 'test');
    await expect(runSearch({ ...o, space: redefined }, events())).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED', where: { field: 'layers-1.train' } });
    await expect(runSearch({ ...o, dev: data.train }, events())).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED' });
  }, 180_000);

  it('reads a search begun by the earlier state format, which kept the space in its settings', async () => {
    const o = options('search');
    const file = join(o.out, 'search.json');
    const v2 = JSON.parse(readFileSync(file, 'utf8')) as { settings: Record<string, unknown>; steps?: unknown; version: number; made: Record<string, string> };
    const first = options('search').space; // the space the first test searched: its steps are the ones in `made` for that space
    const made = Object.fromEntries(Object.entries(v2.made).filter(([k]) => !k.startsWith('student')));
    const { steps: _, ...rest } = v2;
    writeFileSync(file, JSON.stringify({ ...rest, version: 1, made, settings: { ...v2.settings, space: first } }));
    const again = events();
    const result = await runSearch({ ...o, exhaustive: true, budget: { mean: 50 } }, again);
    expect(again.lines.some((l) => l.startsWith('== timing') || l.startsWith('== layers'))).toBe(false);
    expect(result.outcomes.every((x) => x.status !== 'not tried')).toBe(true);
    const upgraded = JSON.parse(readFileSync(file, 'utf8')) as { version: number; steps: Record<string, unknown> };
    expect(upgraded.version).toBe(2);
    expect(Object.keys(upgraded.steps).sort()).toEqual(['int8', 'layers-1', 'layers-1.train', 'layers-1.train.int8']);
  }, 120_000);

  it('refuses from the command line what a search cannot take, writing nothing', () => {
    const base = ['compress', '--teacher', teacher, '--train', data.train, '--dev', data.dev, '--tasks', data.tasks];
    const refused = (args: string[], field: string): void => {
      const out = join(data.dir, `never-${field.slice(2)}`);
      const run = runXlmt([...base, ...args, '--out', out]);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr, args.join(' ')).toContain(field);
      expect(existsSync(out), args.join(' ')).toBe(false);
    };
    refused(['--search'], '--max-degradation');
    refused(['--search', '--max-degradation', 'lots'], '--max-degradation');
    refused(['--search', '--max-degradation', '2%', '--preset', 'small'], '--preset');
    refused(['--preset', 'small', '--per-task', '3%'], '--max-degradation');
    refused(['--preset', 'small', '--space', 'space.yaml'], '--space');
    refused(['--search', '--max-degradation', '2%', '--space', join(data.dir, 'no-such.yaml')], '--space');
  }, 60_000);
});

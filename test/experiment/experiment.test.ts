// xlmt experiment end to end on the tiny two-task, two-language fixture: run layout, filtered data, results.json,
// report.md, resume without retraining, and the errors a bad invocation gets.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentCommand } from '../../src/cli/experiment.ts';
import { loadDataset, loadTaskSchema } from '../../src/data/index.ts';
import { runExperiment, type ExperimentOutcome, type ExperimentResults, type RunEvent } from '../../src/experiment/index.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

let fixture: RunFixture;
let base: TrainConfig;
let out: string;
let first: ExperimentOutcome;
const firstRuns: RunEvent[] = [];
const firstLog: string[] = [];

const baseInput = (f: RunFixture): Record<string, unknown> => ({
  train: f.train, dev: f.dev, tasks: f.tasks, tokenizer: f.tokenizer,
  encoder: { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 },
  maxLength: 16, batchSize: 8, epochs: 2, lr: 3e-3, patience: 0, threads: 1,
});

beforeAll(async () => {
  fixture = await runFixture();
  base = parseTrainConfig(baseInput(fixture), 'test');
  out = join(fixture.dir, 'exp');
  first = await runExperiment(base, { out, compare: ['crosslingual', 'multitask'], seeds: [1, 2], minRows: 20 }, {
    log: (line) => firstLog.push(line),
    onRun: (e) => firstRuns.push(e),
  });
}, 60_000);

const scopes = ['multi-task/all', 'single-task/sentiment', 'single-task/topics', 'monolingual/sentiment/de', 'monolingual/sentiment/en', 'monolingual/topics/de', 'monolingual/topics/en'];

function lines(file: string): { id: string; lang: string; labels: Record<string, unknown> }[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; lang: string; labels: Record<string, unknown> });
}

describe('xlmt experiment', () => {
  it('trains every variant once per seed into runs/<variant>/<scope>/seed-<n>, logging each run', () => {
    expect(firstRuns.map((e) => e.run.dir)).toEqual([1, 2].flatMap((s) => scopes.map((scope) => join('runs', scope, `seed-${s}`))));
    expect(firstRuns.every((e) => e.trained)).toBe(true);
    for (const e of firstRuns) expect(statSync(join(out, e.run.dir, 'best', 'model.safetensors')).isFile()).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'runs/monolingual/topics/de/seed-2/config.json'), 'utf8')) as TrainConfig;
    expect(config).toMatchObject({ seed: 2, epochs: 2, train: join(out, 'data/monolingual/topics/de/train.jsonl'), tasks: join(out, 'data/monolingual/topics/de/tasks.json') });
    expect(firstLog.filter((l) => /^\[\d+\/14\] .*: training, \d+ steps/.test(l))).toHaveLength(14);
    expect(firstLog.filter((l) => /^\[\d+\/14\] .*: done in [\d.]+ s, dev macro-F1 [\d.]+ \(epoch [12]\)$/.test(l))).toHaveLength(14);
  });

  it('writes the data each variant trains on, ids kept, labels restricted to its task', async () => {
    const count = (path: string): [number, number] => [lines(join(out, 'data', path, 'train.jsonl')).length, lines(join(out, 'data', path, 'dev.jsonl')).length];
    expect(count('multi-task')).toEqual([120, 40]);
    expect(count('single-task/sentiment')).toEqual([80, 27]);
    expect(count('single-task/topics')).toEqual([80, 26]);
    expect(count('monolingual/sentiment/de')).toEqual([40, 13]);
    expect(count('monolingual/sentiment/en')).toEqual([40, 14]);
    expect(count('monolingual/topics/de')).toEqual([40, 13]);
    expect(count('monolingual/topics/en')).toEqual([40, 13]);
    const mono = lines(join(out, 'data/monolingual/topics/de/train.jsonl'));
    expect(mono.every((r) => r.lang === 'de' && Object.keys(r.labels).join() === 'topics')).toBe(true);
    const source = new Map(lines(fixture.train).map((r) => [r.id, r]));
    for (const r of mono) expect(r.labels.topics).toEqual(source.get(r.id)?.labels.topics);
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'data/single-task/sentiment/tasks.json'), 'utf8')) as object)).toEqual(['sentiment']);
    // The files load as datasets with their schema, as `xlmt train` would load them.
    const schema = await loadTaskSchema(join(out, 'data/multi-task/tasks.json'));
    expect((await loadDataset(join(out, 'data/multi-task/dev.jsonl'), { schema })).examples.map((e) => e.id)).toEqual(lines(fixture.dev).map((r) => r.id));
  });

  it('keeps every number in results.json', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results).toMatchObject({ format: 'xlmt-experiment', version: 1, seeds: [1, 2], languages: ['de', 'en'], compare: ['crosslingual', 'multitask'], minRows: 20 });
    expect(results.tasks.map((t) => t.name)).toEqual(['sentiment', 'topics']);
    expect(results.source).toEqual({ train: { file: fixture.train, rows: 120 }, dev: { file: fixture.dev, rows: 40 } });
    expect(results.model).toMatchObject({ layers: 1, hidden: 32, heads: 2, ffn: 64 });
    expect(results.settings).not.toHaveProperty('seed');
    expect(results.data).toHaveLength(7);
    expect(results.runs).toHaveLength(14);
    const mtl = results.runs.filter((r) => r.variant === 'multi-task');
    expect(mtl.map((r) => r.dev.map((t) => t.task))).toEqual([['sentiment', 'topics'], ['sentiment', 'topics']]);
    expect(mtl[0]?.dev[0]?.n).toBe(27);

    expect(results.comparisons.map((c) => [c.comparison, c.task, c.rowHeader, c.variants])).toEqual([
      ['multitask', null, 'task', ['single-task', 'multi-task']],
      ['crosslingual', 'sentiment', 'language', ['monolingual', 'cross-lingual']],
      ['crosslingual', 'topics', 'language', ['monolingual', 'cross-lingual']],
    ]);
    const multitask = results.comparisons[0];
    expect(multitask?.rows.map((r) => r.key)).toEqual(['sentiment', 'topics']);
    const topics = multitask?.rows[1];
    // Cells are exactly the runs' scores, seed by seed.
    expect(topics?.cells['multi-task']?.runs).toEqual(mtl.map((r) => r.dev[1]?.macroF1));
    const stl = results.runs.filter((r) => r.variant === 'single-task' && r.task === 'topics');
    expect(topics?.cells['single-task']?.runs).toEqual(stl.map((r) => r.dev[0]?.macroF1));
    const ref = (topics?.cells['single-task']?.runs ?? []) as number[];
    const ours = (topics?.cells['multi-task']?.runs ?? []) as number[];
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(topics?.delta['multi-task']?.estimate).toBeCloseTo(((mean(ref) - mean(ours)) / mean(ref)) * 100, 9);
    expect(topics?.cells['multi-task']?.summary?.ci).not.toBeNull();

    const de = results.comparisons[1]?.rows[0];
    expect(de?.key).toBe('de');
    const stlSentiment = results.runs.filter((r) => r.variant === 'single-task' && r.task === 'sentiment');
    expect(de?.cells['cross-lingual']?.runs).toEqual(stlSentiment.map((r) => r.dev[0]?.perLanguage.find((l) => l.lang === 'de')?.macroF1));
    const mono = results.runs.filter((r) => r.variant === 'monolingual' && r.task === 'sentiment' && r.lang === 'de');
    expect(mono.map((r) => r.dev[0]?.n)).toEqual([13, 13]);
    expect(de?.cells.monolingual?.runs).toEqual(mono.map((r) => r.dev[0]?.macroF1));
  });

  it('writes report.md with both comparisons: tasks, then languages per task, with Δ% columns', () => {
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toBe(first.report);
    expect(report).toMatch(/- \*\*seeds\*\*: 1, 2;/);
    expect(report).toMatch(/- \*\*model\*\*: from scratch, 1 layer × hidden 32, 2 heads, FFN 64/);
    expect(report).toMatch(/- \*\*training\*\*: 2 epochs, batch 8, lr 0\.003/);
    const tables = report.split('\n').filter((l) => l.startsWith('|'));
    const header = (l: string): string[] => l.split('|').slice(1, -1).map((c) => c.trim());
    const headers = tables.filter((l) => /^\| (task|language) /.test(l)).map(header);
    expect(headers).toEqual([
      ['task', 'single-task', 'multi-task', 'Δ% multi-task'],
      ['language', 'monolingual', 'cross-lingual', 'Δ% cross-lingual'],
      ['language', 'monolingual', 'cross-lingual', 'Δ% cross-lingual'],
    ]);
    const body = tables.filter((l) => !/^\| (task|language) /.test(l) && !/^\| -/.test(l)).map((l) => header(l)[0]);
    expect(body).toEqual(['sentiment', 'topics', 'de', 'en', 'de', 'en']);
    for (const l of tables.filter((x) => /^\| (sentiment|topics|de|en) /.test(x))) expect(l).toMatch(/\d+\.\d ± \d+\.\d/);
    const sections = report.split('\n').filter((l) => l.startsWith('#'));
    expect(sections).toEqual([`# xlmt experiment: ${out}`, '## Multi-task vs single-task', '## Cross-lingual vs monolingual', '### sentiment', '### topics']);
  });

  it('resumes: a second invocation trains nothing, re-evaluates, and prints the same report', async () => {
    const weights = join(out, 'runs/single-task/topics/seed-1/best/model.safetensors');
    const before = statSync(weights).mtimeMs;
    const configFile = join(fixture.dir, 'base.json');
    writeFileSync(configFile, JSON.stringify(baseInput(fixture)));
    const stdout: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { stdout.push(chunk); return true; }) as typeof process.stdout.write;
    try {
      await experimentCommand().parseAsync(['--config', configFile, '--out', out, '--seeds', '1,2', '--quiet'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    expect(statSync(weights).mtimeMs).toBe(before);
    const report = stdout.join('');
    expect(report).toBe(first.report.replace('(14 trained now, 0 finished earlier)', '(0 trained now, 14 finished earlier)'));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ExperimentResults;
    expect(results.runs.every((r) => !r.trained)).toBe(true);
  });

  it('picks up after a crash: finished runs are kept, the rest are trained', async () => {
    const settings = { out: join(fixture.dir, 'crash'), compare: ['multitask' as const], seeds: [5], minRows: 20 };
    const crash = (e: RunEvent): void => {
      if (e.index === 2) throw new Error('simulated crash');
    };
    await expect(runExperiment(base, settings, { log: () => {}, onRun: crash })).rejects.toThrow('simulated crash');
    const again: RunEvent[] = [];
    const outcome = await runExperiment(base, settings, { log: () => {}, onRun: (e) => again.push(e) });
    expect(again.map((e) => [e.run.dir, e.trained])).toEqual([
      ['runs/multi-task/all/seed-5', false],
      ['runs/single-task/sentiment/seed-5', false],
      ['runs/single-task/topics/seed-5', true],
    ]);
    expect(outcome.results.comparisons.map((c) => c.comparison)).toEqual(['multitask']);
    expect(outcome.report).not.toMatch(/Cross-lingual/);
  });

  it('refuses to train on changed data under runs that used the old data', async () => {
    const settings = { out, compare: ['multitask' as const], seeds: [1], minRows: 20, languages: ['en'] };
    await expect(runExperiment(base, settings, { log: () => {} })).rejects.toMatchObject({ code: 'INPUT_CHANGED', message: expect.stringMatching(/data\/multi-task\/train\.jsonl: the filtered data differs/) });
  });

  it('reports bad options and impossible comparisons', async () => {
    const run = (args: string[]): Promise<unknown> => {
      const command = experimentCommand().exitOverride().configureOutput({ writeErr: () => {} });
      return command.parseAsync(['--out', join(fixture.dir, 'bad'), '--train', fixture.train, '--dev', fixture.dev, '--tokenizer', fixture.tokenizer, ...args], { from: 'user' });
    };
    await expect(run(['--seeds', '1,two'])).rejects.toThrow(`option '--seeds <list>' argument '1,two' is invalid. "two" is not a seed`);
    await expect(run(['--compare', 'both'])).rejects.toThrow(/Unknown comparison "both"/);
    await expect(run(['--tasks', 'sentiment,emotion'])).rejects.toThrow('--tasks: unknown task "emotion" (expected one of "sentiment", "topics"; received "emotion")');
    await expect(run(['--languages', 'en,fr'])).rejects.toThrow(/no training row has language "fr" \(expected one of "de", "en"/);
    await expect(run(['--compare', 'multitask', '--tasks', 'topics'])).rejects.toThrow(/needs at least two tasks/);
    const { dev: _dev, ...noDev } = base;
    await expect(runExperiment(noDev, { out, compare: ['multitask'], seeds: [1], minRows: 20 }, { log: () => {} }))
      .rejects.toMatchObject({ code: 'CONFIG_INVALID', where: { field: 'dev' }, message: expect.stringMatching(/no dev file/) });
  });
});

// `xlmt baseline` through commander, in-process: the train → predict → eval round trip with its printed
// reports, and every error a user can meet naming the flag, file or field at fault.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BASELINE_FILE, WEIGHTS_FILE } from '../../src/baseline/model-dir.ts';
import { baselineCommand } from '../../src/cli/baseline.ts';
import type { TaskReport } from '../../src/eval/index.ts';
import { baselineFixture, type BaselineFixture } from './fixtures.ts';

let fx: BaselineFixture;
let model: string;
let trainJson: { data: string; models: { model: string; reports: TaskReport[]; summary: { meanMacroF1: number } }[]; fit: Record<string, { iterations: number }> };
let progress: string[];

afterEach(() => vi.restoreAllMocks());

/** Runs `xlmt baseline ARGS`; returns what it printed to stdout and, line by line, to stderr. */
async function run(args: readonly string[]): Promise<{ stdout: string; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void stdout.push(parts.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk).trimEnd()), true));
  const command = baselineCommand();
  const silence = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    c.commands.forEach(silence);
  };
  silence(command);
  await command.parseAsync([...args], { from: 'user' });
  return { stdout: stdout.join('\n'), stderr };
}

beforeAll(async () => {
  fx = baselineFixture(240, 90);
  model = join(fx.dir, 'model');
  const { stdout, stderr } = await run(['train', '--train', fx.train, '--dev', fx.dev, '--tasks', fx.tasks, '--out', model, '--iterations', '60', '--json']);
  trainJson = JSON.parse(stdout) as typeof trainJson;
  progress = stderr;
});

describe('xlmt baseline train / eval / predict', () => {
  it('trains with a progress line per task and prints the dev evaluation as JSON', () => {
    expect(progress.filter((l) => /^(sentiment|topics): \d+ iterations \(stopped at [a-z ]+\), loss \d+\.\d{4}, [\d,]+ features, \d+\.\d s$/.test(l)).map((l) => l.split(':')[0])).toEqual(['sentiment', 'topics']);
    expect(trainJson.data).toBe(fx.dev);
    expect(trainJson.models[0]?.model).toBe(model);
    expect(trainJson.models[0]?.reports.map((r) => r.task)).toEqual(['sentiment', 'topics']);
    expect(trainJson.models[0]?.summary.meanMacroF1).toBeGreaterThan(0.9);
    expect(Object.values(trainJson.fit).every((f) => f.iterations > 0 && f.iterations <= 60)).toBe(true);
    const saved = JSON.parse(readFileSync(join(model, BASELINE_FILE), 'utf8')) as { format: string; version: number; settings: { c: number; iterations: number } };
    expect([saved.format, saved.version, saved.settings.c, saved.settings.iterations]).toEqual(['xlmt-baseline', 1, 10, 60]);
  });

  it('evaluates a saved model with the same figures, as xlmt eval prints them', async () => {
    const json = JSON.parse((await run(['eval', '--model', model, '--data', fx.dev, '--json'])).stdout) as typeof trainJson;
    // The same figures as at training; the thresholds, tuned on this dev file there, are stored ones here.
    const figures = (reports: TaskReport[] | undefined) => reports?.map((r) => ({ ...r, thresholdSource: null }));
    expect(figures(json.models[0]?.reports)).toEqual(figures(trainJson.models[0]?.reports));
    expect(json.models[0]?.reports[1]?.thresholdSource).toEqual({ kind: 'given', tunedOn: fx.dev, optimistic: true });
    const { stdout } = await run(['eval', '--model', model, '--data', fx.dev]);
    const mean = (100 * (trainJson.models[0]?.summary.meanMacroF1 ?? 0)).toFixed(1);
    expect(stdout).toContain(`## ${model}: mean macro-F1 ${mean}`);
    expect(stdout).toMatch(/\| task +\| +de \| +en \| +ru \| +all \|/);
    expect(stdout).toContain('### sentiment (multiclass, ');
    expect(stdout).toContain('confusion (rows: gold, columns: predicted)');
    expect(stdout).toMatch(/### topics \(multilabel, \d+ examples\)[\s\S]*thresholds: \d\.\d{3}, \d\.\d{3} \(tuned at training on .*, which is this same file, so these multilabel scores are optimistic/);
  });

  it('predicts a teacher file and says what it wrote', async () => {
    const out = join(fx.dir, 'teacher.jsonl');
    const { stdout } = await run(['predict', '--model', model, '--in', fx.train, '--out', out, '--keep', 'text,lang', '--skip-labeled']);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(stdout).toMatch(new RegExp(`^read 240 rows: ${rows.length} written → ${out.replaceAll('.', '\\.')}, ${240 - rows.length} left out \\(labeled for every task\\)\npredictions per task: sentiment \\d+, topics \\d+; \\d+\\.\\d s$`));
  });
});

describe('xlmt baseline errors', () => {
  it('names a bad flag value and what it expects', async () => {
    const train = (extra: string[]) => run(['train', '--train', fx.train, '--out', join(fx.dir, 'unused'), ...extra]);
    await expect(train(['--c', '0'])).rejects.toThrow('--c expects a number > 0, got "0"');
    await expect(train(['--c', 'ten'])).rejects.toThrow('--c expects a number > 0, got "ten"');
    await expect(train(['--iterations', '2.5'])).rejects.toThrow('--iterations expects a positive integer, got "2.5"');
    await expect(train(['--char-ngrams', '5-2'])).rejects.toThrow('--char-ngrams expects MIN-MAX with 1 <= MIN <= MAX');
    await expect(train(['--word-ngrams', '0'])).rejects.toThrow('--word-ngrams expects MIN-MAX');
    await expect(run(['predict', '--model', model, '--in', fx.dev, '--out', join(fx.dir, 'x.jsonl'), '--tasks', 'sentiment,'])).rejects.toThrow('--tasks expects comma-separated names, got "sentiment,"');
  });

  it('names the training file, and a task with no training row', async () => {
    const missing = join(fx.dir, 'missing.jsonl');
    await expect(run(['train', '--train', missing, '--out', join(fx.dir, 'm1')])).rejects.toThrow(`${missing}: cannot read the file`);
    const tasks = join(fx.dir, 'more-tasks.json');
    writeFileSync(tasks, JSON.stringify({ ...JSON.parse(readFileSync(fx.tasks, 'utf8')), urgency: { type: 'multiclass', labels: ['low', 'high'] } }));
    await expect(run(['train', '--train', fx.train, '--tasks', tasks, '--out', join(fx.dir, 'm2'), '--quiet'])).rejects.toThrow(`${fx.train}: task "urgency": no row is labeled for the task, so it cannot be fitted. Label some rows for it, or remove it from ${tasks}`);
  });

  it('refuses to replace a directory that is no baseline', async () => {
    const run1 = join(fx.dir, 'a-training-run');
    mkdirSync(run1);
    writeFileSync(join(run1, 'state.json'), '{}');
    await expect(run(['train', '--train', fx.train, '--out', run1, '--quiet'])).rejects.toThrow(`--out: ${run1} is not empty and holds no earlier output of xlmt baseline train; nothing was written (received state.json)`);
    expect(readFileSync(join(run1, 'state.json'), 'utf8')).toBe('{}');
  });

  it('names a missing model directory, or one that is not a baseline', async () => {
    const predict = (dir: string) => run(['predict', '--model', dir, '--in', fx.dev, '--out', join(fx.dir, 'p.jsonl')]);
    await expect(predict(join(fx.dir, 'nowhere'))).rejects.toThrow(`--model: no directory ${join(fx.dir, 'nowhere')}`);
    await expect(predict(fx.dir)).rejects.toThrow(`--model: ${fx.dir} holds no baseline.json, so it is no baseline directory`);
  });

  it('names a baseline.json of another format or version, and tensors that disagree with it', async () => {
    const copy = (name: string, edit: (json: Record<string, unknown>) => void): string => {
      const dir = join(fx.dir, name);
      mkdirSync(dir);
      const json = JSON.parse(readFileSync(join(model, BASELINE_FILE), 'utf8')) as Record<string, unknown>;
      edit(json);
      writeFileSync(join(dir, BASELINE_FILE), JSON.stringify(json));
      writeFileSync(join(dir, WEIGHTS_FILE), readFileSync(join(model, WEIGHTS_FILE)));
      return dir;
    };
    const evaluate = (dir: string) => run(['eval', '--model', dir, '--data', fx.dev]);
    const v2 = copy('v2', (j) => { j['version'] = 2; });
    await expect(evaluate(v2)).rejects.toThrow(`${join(v2, BASELINE_FILE)}: not a baseline this version of xlmt reads (expected format "xlmt-baseline", version 1; received format "xlmt-baseline", version 2)`);
    const other = copy('other', (j) => { j['format'] = 'xlmt-model'; });
    await expect(evaluate(other)).rejects.toThrow('received format "xlmt-model", version 1');
    const shape = copy('shape', (j) => { (j['heads'] as Record<string, { features: number }>)['topics']!.features += 1; });
    await expect(evaluate(shape)).rejects.toThrow(`${join(shape, WEIGHTS_FILE)}: tensor "topics.buckets": wrong type or shape`);
    const bad = copy('bad', (j) => { (j['settings'] as Record<string, unknown>)['c'] = -1; });
    await expect(evaluate(bad)).rejects.toThrow(`${join(bad, BASELINE_FILE)}: invalid baseline description: settings.c:`);
    const truncated = copy('truncated', () => {});
    writeFileSync(join(truncated, WEIGHTS_FILE), readFileSync(join(model, WEIGHTS_FILE)).subarray(0, 100));
    await expect(evaluate(truncated)).rejects.toThrow(join(truncated, WEIGHTS_FILE));
  });

  it('names an unknown task, a reserved kept field, an input it cannot read and an output over the input', async () => {
    const predict = (extra: string[]) => run(['predict', '--model', model, '--out', join(fx.dir, 'q.jsonl'), ...extra]);
    await expect(predict(['--in', fx.dev, '--tasks', 'sentiment,urgency'])).rejects.toThrow('--tasks: the model has no task "urgency" (expected sentiment, topics; received sentiment,urgency)');
    await expect(predict(['--in', fx.dev, '--keep', 'text,tasks'])).rejects.toThrow('--keep: kept fields would shadow output fields');
    await expect(predict(['--in', join(fx.dir, 'absent.jsonl')])).rejects.toThrow(`${join(fx.dir, 'absent.jsonl')}: cannot read the input`);
    await expect(predict(['--in', join(fx.dir, 'rows.txt')])).rejects.toThrow(`--in: cannot tell the format of ${join(fx.dir, 'rows.txt')} from its name`);
    await expect(run(['predict', '--model', model, '--in', fx.dev, '--out', fx.dev])).rejects.toThrow(`--out: ${fx.dev} is ${fx.dev}, which --in reads`);
  });

  it('reads the text from a named CSV column, and names a column the header lacks', async () => {
    const input = join(fx.dir, 'comments.csv');
    writeFileSync(input, 'comment,lang\ngreat service,en\nschlecht und kaputt,de\n');
    const out = join(fx.dir, 'comments.predictions.jsonl');
    await run(['predict', '--model', model, '--in', input, '--out', out, '--text-column', 'comment', '--tasks', 'sentiment']);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lang: string; tasks: { sentiment: { label: string } } });
    expect(rows.map((r) => [r.lang, r.tasks.sentiment.label])).toEqual([['en', 'positive'], ['de', 'negative']]);
    await expect(run(['predict', '--model', model, '--in', input, '--out', out, '--text-column', 'body'])).rejects.toThrow(`${input}:1: --text-column: no column "body"`);
  });

  it('stops at an unscorable row with its file:line, leaving no output behind', async () => {
    const input = join(fx.dir, 'bad-rows.jsonl');
    writeFileSync(input, '{"text": "great"}\n{"text": ""}\n');
    const out = join(fx.dir, 'bad-rows.out.jsonl');
    await expect(run(['predict', '--model', model, '--in', input, '--out', out])).rejects.toThrow(`${input}:2: text: the text is empty`);
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
  });
});

describe('xlmt (main)', () => {
  it('has the baseline command', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'baseline', '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/train \[options\][\s\S]*predict \[options\][\s\S]*eval \[options\]/);
  });
});

// xlmt train end to end on a tiny dataset: run directory, learning, resume after a crash or a kill.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/index.ts';
import { CHAR_NGRAM_PARAM } from '../../src/models/char-ngrams.ts';
import { evaluateModel } from '../../src/train/assess.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { loadModelDir } from '../../src/train/model-dir.ts';
import { runTraining, type RunEvents } from '../../src/train/run.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

let fixture: RunFixture;
beforeAll(async () => {
  fixture = await runFixture();
});

function config(out: string, overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, tokenizer: fixture.tokenizer, out: join(fixture.dir, out),
    encoder: { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 },
    maxLength: 16, batchSize: 8, epochs: 3, lr: 3e-3, patience: 0, checkpointEvery: 5, threads: 1,
    // Random batches: in this fixture a text's length gives its topic labels away (marker words add tokens), so
    // length-grouped batches would each hold one label set. Grouping is tested in sampler.test.ts.
    groupWindow: 0,
    ...overrides,
  }, 'test');
}

const quiet: RunEvents = { log: () => {} };

async function finalParams(out: string): Promise<Map<string, Uint8Array>> {
  const file = await readSafetensors(join(out, 'checkpoints', 'last', 'params.safetensors'));
  return new Map([...file.tensors].map(([name, t]) => [name, t.bytes]));
}

describe('xlmt train', () => {
  it('writes the run directory, learns both tasks and keeps a loadable best model', async () => {
    const c = config('plain', { epochs: 10 });
    const result = await runTraining(c, quiet);
    expect(result.steps).toBe(10 * Math.ceil((80 + 80) / 8)); // sentiment 80 rows, topics 80 rows
    for (const file of ['config.json', 'metrics.jsonl', 'best/model.safetensors', 'best/config.json', 'best/tokenizer.json', 'best/tasks.json', 'best/xlmt.json']) {
      expect(existsSync(join(c.out, file)), file).toBe(true);
    }
    const metrics = readFileSync(join(c.out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; meanMacroF1?: number });
    const evals = metrics.filter((m) => m.type === 'eval');
    expect(evals).toHaveLength(10);
    // From near chance to clearly learned, on 27 dev rows per task. (The first epoch scores 0.61 on this fixed
    // fixture: sentiment is still a constant prediction, and tuned thresholds lift the multilabel task.)
    expect(evals[0]?.meanMacroF1).toBeLessThan(0.65);
    expect(result.best?.score).toBeGreaterThan(0.8);
    const model = await loadModelDir(join(c.out, 'best'));
    expect(model.schema.tasks.map((t) => t.name)).toEqual(['sentiment', 'topics']);
    expect(model.meta.thresholds.topics).toHaveLength(2);
    expect(model.report?.missing).toEqual([]);
  });

  it("learns with transformers' RoBERTa heads as well, and the model keeps its head style", async () => {
    const c = config('roberta-heads', { epochs: 10, headStyle: 'roberta', pooling: 'mean' });
    const result = await runTraining(c, quiet);
    expect(result.best?.score).toBeGreaterThan(0.8);
    const model = await loadModelDir(join(c.out, 'best'));
    expect(model.meta).toMatchObject({ headStyle: 'roberta', pooling: 'mean' });
    expect([...model.params.keys()].filter((k) => k.startsWith('heads.sentiment.')).sort())
      .toEqual(['heads.sentiment.dense.bias', 'heads.sentiment.dense.weight', 'heads.sentiment.out_proj.bias', 'heads.sentiment.out_proj.weight']);
  });

  it('trains with character n-grams and saves a plain encoder that scores what the run recorded', async () => {
    const c = config('char-ngrams', { epochs: 10, pooling: 'mean', charNgrams: { min: 2, max: 3 } });
    const result = await runTraining(c, quiet);
    expect(result.best?.score).toBeGreaterThan(0.8);
    // The checkpoint holds the n-gram table, trained away from its zero start; the saved model has it folded in.
    const last = await readSafetensors(join(c.out, 'checkpoints', 'last', 'params.safetensors'));
    const ngrams = last.tensors.get(CHAR_NGRAM_PARAM);
    expect(ngrams?.shape[1]).toBe(32);
    expect(new Float32Array(Uint8Array.from(ngrams?.bytes ?? []).buffer).some((v) => v !== 0)).toBe(true);
    const model = await loadModelDir(join(c.out, 'best'));
    expect([...model.params.keys()]).not.toContain(CHAR_NGRAM_PARAM);
    expect(model.report?.missing).toEqual([]);
    const evaluation = await evaluateModel(join(c.out, 'best'), fixture.dev, 1);
    expect(evaluation.summary.meanMacroF1).toBeCloseTo(result.best?.score ?? Number.NaN, 6);
    // A saved model starts another run with n-grams: its table starts at zero, so the first evaluation is the model's.
    const again = config('char-ngrams-init', { epochs: 1, lr: 1e-9, pooling: 'mean', charNgrams: { min: 2, max: 3 }, init: join(c.out, 'best'), tokenizer: undefined });
    expect((await runTraining(again, quiet)).best?.score).toBeCloseTo(evaluation.summary.meanMacroF1, 2);
  });

  it("learns a task the training data never labels from a teacher's soft targets", async () => {
    // Gold topics only; the teacher scores sentiment on the same texts, 0.9 on the true label.
    const { writeFileSync } = await import('node:fs');
    const gold = readFileSync(fixture.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; labels: Record<string, unknown> });
    const topicsOnly = join(fixture.dir, 'topics-only.jsonl');
    writeFileSync(topicsOnly, gold.filter((r) => r.labels.topics).map((r) => JSON.stringify({ ...r, labels: { topics: r.labels.topics } })).join('\n'));
    const teacher = join(fixture.dir, 'teacher.jsonl');
    const scored = gold.filter((r) => r.labels.sentiment);
    writeFileSync(teacher, scored.map((r) => {
      const positive = r.labels.sentiment === 'positive' ? 0.9 : 0.1;
      return JSON.stringify({ text: r.text, tasks: { sentiment: { scores: { negative: 1 - positive, positive } } } });
    }).join('\n'));
    const sentimentF1 = async (out: string): Promise<number> =>
      (await evaluateModel(join(out, 'best'), fixture.dev, 1)).summary.tasks.find((t) => t.task === 'sentiment')?.macroF1 ?? Number.NaN;

    const taught = config('teacher', { epochs: 10, train: topicsOnly, teacher });
    const result = await runTraining(taught, quiet);
    const topicRows = gold.filter((r) => r.labels.topics).length;
    expect(result.steps).toBe(10 * Math.ceil((topicRows + scored.length) / 8)); // each teacher row drawn once an epoch
    expect(await sentimentF1(taught.out)).toBeGreaterThan(0.8);
    const untaught = config('no-teacher', { epochs: 10, train: topicsOnly });
    await runTraining(untaught, quiet);
    expect(await sentimentF1(untaught.out)).toBeLessThan(0.7);
  });

  it('resumes after a crash with exactly the weights of an unbroken run', async () => {
    const unbroken = config('unbroken');
    await runTraining(unbroken, quiet);
    const crashed = config('crashed');
    const crash: RunEvents = { log: () => {}, onStep: (e) => { if (e.step === 23) throw new Error('simulated crash'); } };
    await expect(runTraining(crashed, crash)).rejects.toThrow('simulated crash');
    const progress = JSON.parse(readFileSync(join(crashed.out, 'checkpoints', 'last', 'progress.json'), 'utf8')) as { step: number };
    expect(progress.step).toBe(20);
    await runTraining(crashed, quiet);
    const a = await finalParams(unbroken.out);
    const b = await finalParams(crashed.out);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, bytes] of a) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(name) ?? new Uint8Array())), name).toBe(0);
    const lines = (out: string): unknown[] => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines(crashed.out)).toEqual(lines(unbroken.out));
  });

  it('resumes after the process is killed mid-run', async () => {
    const killed = config('killed', { epochs: 8, checkpointEvery: 3 });
    const file = `${killed.out}-config.json`; // beside the run: --out takes no files other than a run's
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(killed.out, { recursive: true });
    writeFileSync(file, JSON.stringify(killed));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', '--config', file, '--quiet'], { stdio: 'ignore' });
    const progressFile = join(killed.out, 'checkpoints', 'last', 'progress.json');
    const deadline = Date.now() + 60_000;
    let step = 0;
    while (Date.now() < deadline) {
      if (existsSync(progressFile)) {
        step = (JSON.parse(readFileSync(progressFile, 'utf8')) as { step: number }).step;
        if (step >= 6) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const progress = JSON.parse(readFileSync(progressFile, 'utf8')) as { done: boolean; step: number };
    expect(progress.done, 'the run finished before it could be killed: make it longer').toBe(false);
    await runTraining(killed, quiet);
    const reference = config('killed-reference', { epochs: 8, checkpointEvery: 3 });
    await runTraining(reference, quiet);
    const a = await finalParams(reference.out);
    const b = await finalParams(killed.out);
    for (const [name, bytes] of a) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(name) ?? new Uint8Array())), name).toBe(0);
  });

  it('refuses to resume a run directory with other settings', async () => {
    const first = config('settings');
    await runTraining(first, { log: () => {}, onStep: (e) => { if (e.step === 6) throw new Error('stop'); } }).catch(() => {});
    await expect(runTraining({ ...first, lr: 1e-4 }, quiet)).rejects.toThrow(/holds an unfinished run with other settings/);
  });

  it('resumes a run begun by an earlier version whose config lacked fields added since (they take their defaults)', async () => {
    const unbroken = config('unbroken-v1');
    await runTraining(unbroken, quiet);
    const older = config('older-version');
    await runTraining(older, { log: () => {}, onStep: (e) => { if (e.step === 12) throw new Error('stop'); } }).catch(() => {});
    // What an earlier version left: no headStyle in config.json, a fingerprint over the fields it had.
    const { writeFileSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const { headStyle: _added, ...earlier } = older;
    writeFileSync(join(older.out, 'config.json'), JSON.stringify(earlier));
    const progressFile = join(older.out, 'checkpoints', 'last', 'progress.json');
    const { threads: _t, evalBatchSize: _e, out: _o, patience: _p, ...settings } = earlier;
    const saved = JSON.parse(readFileSync(progressFile, 'utf8')) as Record<string, unknown>;
    saved.fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
    writeFileSync(progressFile, JSON.stringify(saved));

    await runTraining(older, quiet);
    const a = await finalParams(unbroken.out);
    const b = await finalParams(older.out);
    for (const [name, bytes] of a) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(name) ?? new Uint8Array())), name).toBe(0);
    expect(JSON.parse(readFileSync(join(older.out, 'config.json'), 'utf8'))).toMatchObject({ headStyle: 'linear' });

    // A changed setting is still refused, whatever the saved config lacks.
    writeFileSync(join(older.out, 'config.json'), JSON.stringify({ ...earlier, lr: 1e-4 }));
    writeFileSync(progressFile, JSON.stringify({ ...saved, done: false }));
    await expect(runTraining(older, quiet)).rejects.toThrow(/holds an unfinished run with other settings/);
  });
});

describe('xlmt train on CSV', () => {
  it('reads train and dev CSV files through the configured column mapping', async () => {
    const { writeFileSync } = await import('node:fs');
    const toCsv = (file: string, name: string): string => {
      const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; lang: string; labels: { sentiment?: string; topics?: string[] } });
      const quote = (v: string): string => `"${v.replace(/"/g, '""')}"`;
      const lines = rows.map((r) => [quote(r.text), r.lang, r.labels.sentiment ?? '', r.labels.topics === undefined ? '' : r.labels.topics.length === 0 ? 'none' : r.labels.topics.join(';')].join(','));
      const out = join(fixture.dir, name);
      writeFileSync(out, `comment,language,polarity,about\n${lines.join('\n')}\n`);
      return out;
    };
    const c = config('csv', {
      train: toCsv(fixture.train, 'train.csv'), dev: toCsv(fixture.dev, 'dev.csv'), epochs: 1,
      csv: { textColumn: 'comment', langColumn: 'language', labelColumns: { sentiment: 'polarity', topics: 'about' }, separator: ';', emptySet: 'none' },
    });
    const result = await runTraining(c, quiet);
    expect(result.steps).toBe(Math.ceil(80 / 8) + Math.ceil(80 / 8));
    const model = await loadModelDir(join(c.out, 'best'));
    expect(model.schema.tasks.map((t) => t.name)).toEqual(['sentiment', 'topics']);
  });
});

// A baseline of xlmt baseline train as an online teacher: its logits are the linear scores its own probabilities
// come from; alone it teaches a task the student has no gold labels for, beside an encoder teacher the two average;
// its outputs are cached under its own fingerprint; it is refused where hidden states are needed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src/baseline/features.ts';
import { loadBaseline } from '../../../src/baseline/model-dir.ts';
import { trainBaseline } from '../../../src/baseline/train.ts';
import { runOnlineDistillation } from '../../../src/compress/distill/online-run.ts';
import { loadOnlineTeacher, loadTeacher } from '../../../src/compress/distill/teacher.ts';
import { loadTeacherMap } from '../../../src/compress/distill/teacher-map.ts';
import { loadDataset, loadTaskSchema } from '../../../src/data/index.ts';
import { parseTrainConfig, type TrainConfig } from '../../../src/train/config.ts';
import { runTraining, type RunEvents } from '../../../src/train/run.ts';
import { runFixture, type RunFixture } from '../../train/fixtures.ts';

let data: RunFixture;
let baseline: string;
let otherBaseline: string;
let encoder: string;
let sentimentOnly: string;

const fit = (c: number) => ({ features: { ...DEFAULT_FEATURES, buckets: 2 ** 12 }, fit: { c, iterations: 100 } });

function student(name: string, overrides: Record<string, unknown>): TrainConfig {
  return parseTrainConfig({
    train: sentimentOnly, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: join(data.dir, 'students', name),
    encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 }, maxLength: 16, batchSize: 8, epochs: 4, lr: 3e-3, patience: 0, threads: 1, groupWindow: 0,
    ...overrides,
  }, 'test');
}

function recorder(): { events: RunEvents; lines: string[]; f1: Record<string, number>[] } {
  const lines: string[] = [];
  const f1: Record<string, number>[] = [];
  return { lines, f1, events: { log: (l) => lines.push(l), onEval: (e) => f1.push(Object.fromEntries(e.evaluation.summary.tasks.map((t) => [t.task, t.macroF1]))) } };
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  baseline = join(data.dir, 'baseline');
  otherBaseline = join(data.dir, 'baseline-c1');
  await trainBaseline({ train: data.train, dev: data.dev, tasks: data.tasks, out: baseline, settings: fit(10) });
  await trainBaseline({ train: data.train, dev: data.dev, tasks: data.tasks, out: otherBaseline, settings: fit(1) });
  encoder = join(data.dir, 'encoder');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: encoder,
    encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 }, maxLength: 16, batchSize: 8, epochs: 2, threads: 1,
  }, 'test'), { log: () => {} });
  sentimentOnly = join(data.dir, 'sentiment-only.jsonl');
  const rows = readFileSync(data.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { labels: Record<string, unknown> });
  writeFileSync(sentimentOnly, `${rows.filter((r) => r.labels.sentiment !== undefined).map((r) => JSON.stringify({ ...r, labels: { sentiment: r.labels.sentiment } })).join('\n')}\n`);
}, 120_000);

describe('a baseline as a teacher', () => {
  it('gives as logits the scores its own probabilities are the softmax or sigmoids of, keyed by what decides them', async () => {
    const teacher = await loadOnlineTeacher(baseline);
    expect(teacher.kind).toBe('baseline');
    const dev = await loadDataset(data.dev, { schema: await loadTaskSchema(data.tasks) });
    const texts = dev.examples.slice(0, 12).map((e) => e.text);
    const logits = await teacher.logits(texts);
    const { model } = await loadBaseline(baseline);
    const counts = model.counts(texts);
    for (const task of teacher.tasks) {
      const z = logits.get(task.name) as Float32Array;
      const p = model.score(counts, task.name);
      const k = task.labels.length;
      expect(z.length).toBe(texts.length * k);
      for (let i = 0; i < texts.length; i++) {
        const row = Array.from(z.subarray(i * k, (i + 1) * k));
        const max = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
        const expected = task.type === 'multiclass' ? row.map((v) => Math.exp(v - max) / sum) : row.map((v) => 1 / (1 + Math.exp(-v)));
        expected.forEach((q, l) => expect(q).toBeCloseTo(p[i * k + l] as number, 5));
      }
    }
    // The same weights load to the same fingerprint; another fit, to another.
    expect((await loadOnlineTeacher(baseline)).fingerprint).toBe(teacher.fingerprint);
    expect((await loadOnlineTeacher(otherBaseline)).fingerprint).not.toBe(teacher.fingerprint);
  });

  it('teaches a task the student has no gold labels for, alone or averaged with an encoder teacher, through its cache', async () => {
    const plain = recorder();
    await runTraining(student('plain', {}), plain.events);
    const taught = recorder();
    await runOnlineDistillation(student('taught', { teacherModel: baseline, kdTemperature: 1 }), taught.events);
    expect(taught.lines).toContain(`teachers: sentiment ← ${baseline}; topics ← ${baseline}; Eq. 2 with F = 1, α = 1`);
    // The baseline knows topics on this fixture (its dev macro-F1 is 1.0); the student, with no gold label for them,
    // learns them from it alone (its best epoch; this tiny student's dev scores swing from epoch to epoch).
    const best = (f1: Record<string, number>[]): number => Math.max(...f1.map((e) => e.topics as number));
    expect(best(plain.f1)).toBeLessThan(0.6);
    expect(best(taught.f1)).toBeGreaterThan(0.75);

    const map = await loadTeacherMap([encoder, `topics=${baseline}`], (await loadTaskSchema(data.tasks)).tasks);
    const [enc, base] = map.teachers;
    const texts = ['a', 'staff were friendly', 'the price'];
    const mean = (await map.logits(texts)).get('topics') as Float32Array;
    const a = (await enc?.logits(texts))?.get('topics') as Float32Array;
    const b = (await base?.logits(texts))?.get('topics') as Float32Array;
    mean.forEach((v, i) => expect(v).toBeCloseTo(((a[i] as number) + (b[i] as number)) / 2, 5));
    await map.release();

    const cache = join(data.dir, 'cache');
    const first = recorder();
    await runOnlineDistillation(student('mean-1', { teacherModel: [encoder, `topics=${baseline}`], teacherCache: cache, epochs: 1 }), first.events);
    expect(first.lines).toContain(`teachers: sentiment ← ${encoder}; topics ← ${encoder} + ${baseline} (mean); Eq. 2 with F = 4, α = 1`);
    const again = recorder();
    await runOnlineDistillation(student('mean-2', { teacherModel: [encoder, `topics=${baseline}`], teacherCache: cache, epochs: 1 }), again.events);
    expect(again.lines.find((l) => l.startsWith('teacher cache:'))).toMatch(/^teacher cache: \d+ rows read from .*, 0 computed/);
    expect(readFileSync(join(data.dir, 'students', 'mean-2', 'best', 'model.safetensors'))).toEqual(readFileSync(join(data.dir, 'students', 'mean-1', 'best', 'model.safetensors')));
  }, 120_000);

  it('is refused where hidden states are needed, naming it', async () => {
    await expect(loadTeacher(baseline)).rejects.toMatchObject({ code: 'TEACHER_NO_STATES', where: { file: baseline } });
    await expect(runOnlineDistillation(student('states', { teacherModel: baseline, hiddenWeight: 1 }), recorder().events))
      .rejects.toMatchObject({ code: 'TEACHER_NO_STATES', where: { file: baseline } });
  });
});

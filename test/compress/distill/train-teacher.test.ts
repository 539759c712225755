// xlmt train --teacher-model: a tiny teacher trained on both fixture tasks teaches a student whose data has gold
// labels for sentiment only; α = 0 trains as without a teacher; a resumed run refuses other teachers; every
// task-to-teacher mapping error surfaces through training, before anything is written.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../src/checkpoint/index.ts';
import { teacherFeeds } from '../../../src/compress/distill/online-objective.ts';
import { runOnlineDistillation } from '../../../src/compress/distill/online-run.ts';
import type { TeacherBatch } from '../../../src/compress/distill/teacher.ts';
import { makeTask } from '../../../src/data/schema.ts';
import { parseTrainConfig, type TrainConfig } from '../../../src/train/config.ts';
import { runTraining, type RunEvents } from '../../../src/train/run.ts';
import { runXlmt } from '../../helpers/cli.ts';
import { runFixture, type RunFixture } from '../../train/fixtures.ts';

let data: RunFixture;
/** Trained on sentiment and topics, hidden 16: topics it knows (dev macro-F1 1.0), sentiment barely. */
let teacher: string;
/** The same shape from another seed: other weights. */
let otherTeacher: string;
/** The training rows labeled for sentiment, with their topics labels removed. */
let sentimentOnly: string;

const SHAPE = { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 };

function config(train: string, out: string, overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out, encoder: SHAPE,
    // Random batches: in this fixture a text's length gives its topics away (test/train/run.test.ts).
    maxLength: 16, batchSize: 8, epochs: 4, lr: 3e-3, patience: 0, threads: 1, groupWindow: 0,
    ...overrides,
  }, 'test');
}

const student = (name: string, overrides: Record<string, unknown> = {}): TrainConfig => config(sentimentOnly, join(data.dir, 'students', name), overrides);

interface Recorded {
  readonly events: RunEvents;
  readonly lines: string[];
  readonly losses: number[];
  /** Dev macro-F1 per task at each epoch's end. */
  readonly f1: Record<string, number>[];
}

function recorder(stopAtStep?: number): Recorded {
  const lines: string[] = [];
  const losses: number[] = [];
  const f1: Record<string, number>[] = [];
  const events: RunEvents = {
    log: (line) => lines.push(line),
    onStep: (e) => {
      losses.push(e.loss);
      if (e.step === stopAtStep) throw new Error('killed');
    },
    onEval: (e) => f1.push(Object.fromEntries(e.evaluation.summary.tasks.map((t) => [t.task, t.macroF1]))),
  };
  return { events, lines, losses, f1 };
}

async function params(out: string): Promise<Map<string, Uint8Array>> {
  const file = await readSafetensors(join(out, 'checkpoints', 'last', 'params.safetensors'));
  return new Map([...file.tensors].map(([name, t]) => [name, t.bytes]));
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  teacher = join(data.dir, 'teacher');
  otherTeacher = join(data.dir, 'other-teacher');
  const quiet = { log: () => {} };
  await runTraining(config(data.train, teacher, { epochs: 8 }), quiet);
  await runTraining(config(data.train, otherTeacher, { epochs: 2, seed: 7 }), quiet);
  sentimentOnly = join(data.dir, 'sentiment-only.jsonl');
  const rows = readFileSync(data.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { labels: Record<string, unknown> });
  const kept = rows.filter((r) => r.labels.sentiment !== undefined).map((r) => JSON.stringify({ ...r, labels: { sentiment: r.labels.sentiment } }));
  writeFileSync(sentimentOnly, `${kept.join('\n')}\n`);
}, 120_000);

describe('training with online teachers', () => {
  it('teaches the student a task it has no gold labels for, and logs who teaches and what it cost', async () => {
    const plain = recorder();
    await runTraining(student('plain'), plain.events);
    const taught = recorder();
    const result = await runOnlineDistillation(student('taught', { teacherModel: teacher }), taught.events);
    expect(result.steps).toBe(4 * 10); // 80 sentiment rows, batches of 8: topics adds no batch of its own
    const topicsPlain = plain.f1.at(-1)?.topics as number;
    const topicsTaught = taught.f1.at(-1)?.topics as number;
    // Without the teacher the topics head is never trained: what tuned thresholds give any scores (≈ 0.5 here).
    expect(topicsPlain).toBeLessThan(0.6);
    expect(topicsTaught).toBeGreaterThan(0.8);
    expect(topicsTaught - topicsPlain).toBeGreaterThan(0.25);
    expect(taught.lines).toContain(`teachers: sentiment ← ${teacher}; topics ← ${teacher}; Eq. 2 with F = 4, α = 1`);
    expect(taught.lines.some((l) => /^teacher forward: [\d.]+ ms per step \(median [\d.]+, max [\d.]+\) over 40 steps; a step took [\d.]+ ms with it/.test(l))).toBe(true);
    expect(plain.lines.some((l) => l.startsWith('teacher'))).toBe(false);
  });

  it('trains with --kd-alpha 0 exactly as without a teacher: the same losses and weights', async () => {
    const plain = recorder();
    await runTraining(student('alpha0-plain', { epochs: 2 }), plain.events);
    const zero = recorder();
    await runOnlineDistillation(student('alpha0', { epochs: 2, teacherModel: teacher, kdAlpha: 0 }), zero.events);
    expect(zero.losses).toHaveLength(20);
    expect(zero.losses).toEqual(plain.losses);
    expect(await params(student('alpha0').out)).toEqual(await params(student('alpha0-plain').out));
    expect(zero.lines.some((l) => l.startsWith('teacher forward'))).toBe(false);
    // With α > 0 the loss moves away from the gold loss at the first step already.
    const taught = recorder(1);
    await runOnlineDistillation(student('alpha1', { epochs: 2, teacherModel: teacher }), taught.events).catch(() => {});
    expect(taught.losses[0]).not.toBe(plain.losses[0]);
  });

  it('trains with a teacher file beside the online teachers: the file\'s rows add their batches', async () => {
    // The rows dropped from the student's data, as a teacher file of topics probabilities.
    const file = join(data.dir, 'topics-teacher.jsonl');
    const rows = readFileSync(data.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; labels: Record<string, unknown> });
    const topicsOnly = rows.filter((r) => r.labels.sentiment === undefined);
    const scores = (topics: string[]): Record<string, number> => ({ price: topics.includes('price') ? 0.9 : 0.1, staff: topics.includes('staff') ? 0.9 : 0.1 });
    writeFileSync(file, `${topicsOnly.map((r) => JSON.stringify({ text: r.text, tasks: { topics: { scores: scores(r.labels.topics as string[]) } } })).join('\n')}\n`);
    const both = recorder();
    const result = await runOnlineDistillation(student('file-and-model', { epochs: 1, teacher: file, teacherModel: teacher }), both.events);
    expect(result.steps).toBe(10 + 40 / 8);
    expect(both.losses.every(Number.isFinite)).toBe(true);
  });
});

describe('transfer texts and gold labels off', () => {
  it('learns from the teachers alone: --transfer texts and the training texts without their labels', async () => {
    // The texts dropped from the student's data, as plain text: no labels at all.
    const rows = readFileSync(data.train, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; labels: Record<string, unknown> });
    const file = join(data.dir, 'transfer.txt');
    writeFileSync(file, `${rows.filter((r) => r.labels.sentiment === undefined).map((r) => r.text).join('\n')}\n\n`);
    const run = recorder();
    const result = await runOnlineDistillation(student('teacher-only', { teacherModel: teacher, goldLabels: false, transfer: file }), run.events);
    // 80 training texts and 40 transfer texts, all drawn in turn for the two tasks the teacher covers.
    expect(result.steps).toBe(4 * Math.ceil(120 / 8));
    expect(run.lines).toContain(`gold labels off: the 80 texts of ${sentimentOnly} are labeled by the online teachers alone`);
    expect(run.lines).toContain(`transfer: 40 unlabeled texts from ${file} (1 blank lines skipped), labeled by the online teachers`);
    expect(run.f1.at(-1)?.topics).toBeGreaterThan(0.8);
  });

  it('refuses transfer texts or gold labels off with nothing to learn from them', () => {
    const refused = (overrides: Record<string, unknown>, field: string): void => {
      let error: unknown;
      try {
        student('never', overrides);
      } catch (e) {
        error = e;
      }
      expect(error, field).toMatchObject({ code: 'CONFIG_INVALID', where: { field } });
    };
    refused({ transfer: 'x.txt' }, 'transfer');
    refused({ goldLabels: false }, 'goldLabels');
    refused({ teacherModel: teacher, kdAlpha: 0, transfer: 'x.txt' }, 'transfer');
    refused({ teacherModel: teacher, kdAlpha: 0, goldLabels: false }, 'goldLabels');
  });

  it('names a transfer file that is missing or empty', async () => {
    const empty = join(data.dir, 'empty-transfer.txt');
    writeFileSync(empty, '\n \n');
    await expect(runOnlineDistillation(student('empty-transfer', { teacherModel: teacher, transfer: empty }), recorder().events))
      .rejects.toMatchObject({ code: 'CORPUS_EMPTY', where: { file: empty }, problem: 'no non-blank text to distil on (2 blank lines)' });
    const missing = join(data.dir, 'no-transfer.txt');
    await expect(runOnlineDistillation(student('missing-transfer', { teacherModel: teacher, transfer: missing }), recorder().events))
      .rejects.toMatchObject({ code: 'FILE_NOT_FOUND', where: { file: missing } });
    expect(existsSync(student('empty-transfer').out)).toBe(false);
  });
});

describe('a cache of the teachers\' logits', () => {
  it('runs the teacher once per text: later epochs and a second run read the cache, and train alike', async () => {
    const cache = join(data.dir, 'teacher-cache');
    const first = recorder();
    await runOnlineDistillation(student('cached-1', { epochs: 2, teacherModel: teacher, teacherCache: cache }), first.events);
    // Each distinct text is scored once (the fixture repeats some); the second epoch reads all 80 rows.
    const distinct = new Set(readFileSync(sentimentOnly, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text)).size;
    expect(first.lines).toContain(`teacher cache: 80 rows read from ${join(cache, readdirSync(cache)[0] as string)}, ${distinct} computed by the teachers and stored`);
    const second = recorder();
    await runOnlineDistillation(student('cached-2', { epochs: 2, teacherModel: teacher, teacherCache: cache }), second.events);
    expect(second.lines.find((l) => l.startsWith('teacher cache:'))).toMatch(/^teacher cache: 160 rows read from .*, 0 computed/);
    expect(second.losses).toEqual(first.losses);
    expect(await params(student('cached-2').out)).toEqual(await params(student('cached-1').out));
  });

  it('is refused with intermediate weights and without online teachers', () => {
    expect(() => student('never', { teacherModel: teacher, teacherCache: 'c', hiddenWeight: 1 })).toThrow(/teacherCache/);
    expect(() => student('never', { teacherCache: 'c' })).toThrow(/teacherCache/);
  });
});

describe('resuming a run with online teachers', () => {
  it('refuses other teacher settings and other teachers at the same path, and resumes to an unbroken run\'s weights', async () => {
    const copy = join(data.dir, 'teacher-copy');
    cpSync(teacher, copy, { recursive: true });
    const settings = { epochs: 2, teacherModel: copy };
    const unbroken = student('unbroken', settings);
    await runOnlineDistillation(unbroken, recorder().events);
    const killed = student('killed', settings);
    await expect(runOnlineDistillation(killed, recorder(15).events)).rejects.toThrow('killed');

    const refused = { code: 'RUN_SETTINGS_CHANGED', where: { file: killed.out } };
    await expect(runOnlineDistillation({ ...killed, kdAlpha: 0.5 }, recorder().events)).rejects.toMatchObject(refused);
    await expect(runOnlineDistillation({ ...killed, kdTemperature: 2 }, recorder().events)).rejects.toMatchObject(refused);
    await expect(runOnlineDistillation({ ...killed, teacherModel: [copy, otherTeacher] }, recorder().events)).rejects.toMatchObject(refused);
    await expect(runTraining({ ...killed, teacherModel: undefined }, recorder().events)).rejects.toMatchObject(refused);
    // The same path, other weights: only the teachers' fingerprints tell.
    const weights = join(copy, 'best', 'model.safetensors');
    const own = readFileSync(weights);
    cpSync(join(otherTeacher, 'best', 'model.safetensors'), weights);
    await expect(runOnlineDistillation(killed, recorder().events)).rejects.toMatchObject({
      ...refused, where: { file: killed.out, field: '--teacher-model' }, problem: expect.stringContaining('other teachers') as unknown,
    });
    writeFileSync(weights, own);

    const resumed = recorder();
    await runOnlineDistillation(killed, resumed.events);
    expect(resumed.lines).toContain(`resuming ${killed.out} at epoch 2, step 10 of 20`);
    expect(await params(killed.out)).toEqual(await params(unbroken.out));
  });
});

describe('task-to-teacher mapping errors', () => {
  function tasksFile(name: string, tasks: Record<string, unknown>): string {
    const file = join(data.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(tasks));
    return file;
  }
  const SENTIMENT = { type: 'multiclass', labels: ['negative', 'positive'] };
  const TOPICS = { type: 'multilabel', labels: ['price', 'staff'] };

  it('refuses each through training, naming the flag value, and writes nothing', async () => {
    const withEmotion = tasksFile('with-emotion', { sentiment: SENTIMENT, topics: TOPICS, emotion: { type: 'multiclass', labels: ['joy', 'fear'] } });
    const notAModel = join(data.dir, 'not-a-model');
    mkdirSync(notAModel);
    const swapped = tasksFile('swapped', { sentiment: { type: 'multiclass', labels: ['positive', 'negative'] }, topics: TOPICS });
    const cases: { name: string; overrides: Record<string, unknown>; error: Record<string, unknown> }[] = [
      { name: 'empty task', overrides: { teacherModel: `=${teacher}` }, error: { code: 'BAD_OPTION', where: { field: '--teacher-model' } } },
      { name: 'unknown task', overrides: { teacherModel: `sentimnt=${teacher}` }, error: { code: 'BAD_OPTION', where: { field: `--teacher-model sentimnt=${teacher}` }, hint: expect.stringContaining('sentiment') } },
      { name: 'uncovered', overrides: { teacherModel: `topics=${teacher}` }, error: { code: 'TEACHER_TASK_UNCOVERED', where: { field: '--teacher-model', task: 'sentiment' } } },
      { name: 'lacks a task given', overrides: { tasks: withEmotion, teacherModel: [`sentiment,topics=${teacher}`, `emotion=${teacher}`] }, error: { code: 'TEACHER_LACKS_TASK', where: { field: `--teacher-model emotion=${teacher}`, task: 'emotion' } } },
      { name: 'uncovered by a bare DIR', overrides: { tasks: withEmotion, teacherModel: teacher }, error: { code: 'TEACHER_TASK_UNCOVERED', where: { task: 'emotion' } } },
      { name: 'labels differ', overrides: { tasks: swapped, teacherModel: teacher }, error: { code: 'TEACHER_LABELS_DIFFER', where: { field: `--teacher-model ${teacher}`, task: 'sentiment' } } },
      { name: 'not a model', overrides: { teacherModel: notAModel }, error: { code: 'NOT_A_MODEL', where: { file: notAModel } } },
      { name: 'missing', overrides: { teacherModel: join(data.dir, 'nowhere') }, error: { code: 'FILE_NOT_FOUND' } },
    ];
    for (const c of cases) {
      const refused = student(`refused-${c.name.replaceAll(' ', '-')}`, c.overrides);
      await expect(runOnlineDistillation(refused, recorder().events), c.name).rejects.toMatchObject(c.error);
      expect(existsSync(refused.out), c.name).toBe(false);
    }
  });

  it('refuses a run directory inside a teacher', async () => {
    const inside = config(sentimentOnly, join(teacher, 'student'), { teacherModel: `sentiment,topics=${teacher}` });
    await expect(runOnlineDistillation(inside, recorder().events)).rejects.toMatchObject({ code: 'OUT_IS_INPUT', received: expect.stringContaining('--teacher-model') });
  });
});

describe('xlmt train --teacher-model (command line)', () => {
  const args = (out: string): string[] => [
    'train', '--train', sentimentOnly, '--dev', data.dev, '--tasks', data.tasks, '--tokenizer', data.tokenizer, '--out', out,
    '--layers', '1', '--hidden', '16', '--heads', '2', '--ffn', '32', '--max-length', '16', '--batch-size', '8', '--epochs', '1', '--threads', '1', '--quiet',
  ];

  it('trains a student with a teacher, and refuses a mapping error and a bad --kd-alpha naming the flag', () => {
    const out = join(data.dir, 'students', 'cli');
    const ok = runXlmt([...args(out), '--teacher-model', teacher, '--kd-temperature', '2', '--kd-alpha', '0.5']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ teacherModel: [teacher], kdTemperature: 2, kdAlpha: 0.5 });
    expect(existsSync(join(out, 'best', 'model.safetensors'))).toBe(true);

    const uncovered = runXlmt([...args(join(data.dir, 'students', 'cli-uncovered')), '--teacher-model', `topics=${teacher}`]);
    expect(uncovered.status).not.toBe(0);
    expect(uncovered.stderr).toContain('TEACHER_TASK_UNCOVERED');
    expect(uncovered.stderr).toContain('no teacher covers task "sentiment"');

    const negative = runXlmt([...args(join(data.dir, 'students', 'cli-negative')), '--teacher-model', teacher, '--kd-alpha', '-1']);
    expect(negative.stderr).toContain('BAD_OPTION: --kd-alpha: out of range');
  }, 60_000);
});

describe('the distillation settings', () => {
  it('refuses an F or α out of range, and either without a teacher, naming the field', () => {
    const base = { train: 'train.jsonl', teacherModel: 'runs/teacher' };
    const fromFile = { file: 'run.json' };
    expect(() => parseTrainConfig({ ...base, kdTemperature: 0 }, fromFile)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 'run.json', field: 'kdTemperature' } }));
    expect(() => parseTrainConfig({ ...base, kdAlpha: -0.5 }, fromFile)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 'run.json', field: 'kdAlpha' } }));
    const flags = { file: 'run.json', flags: { kdAlpha: '--kd-alpha' }, fromFlags: new Set(['kdAlpha']) };
    expect(() => parseTrainConfig({ train: 'train.jsonl', kdAlpha: 0.5 }, flags)).toThrow(expect.objectContaining({
      code: 'BAD_OPTION', where: { field: '--kd-alpha' }, problem: 'read only with online teachers (teacherModel, --teacher-model)',
    }));
    expect(parseTrainConfig({ train: 'train.jsonl' }, fromFile)).toMatchObject({ kdTemperature: 4, kdAlpha: 1 });
    expect(parseTrainConfig({ ...base, kdAlpha: 0 }, fromFile)).toMatchObject({ teacherModel: ['runs/teacher'], kdAlpha: 0 });
  });
});

describe('teacherFeeds', () => {
  it('gives every row the logits of a task the teachers cover with mask 1, finite zeros with mask 0 otherwise, and offers the student\'s ids', async () => {
    const asked: TeacherBatch[] = [];
    const map = {
      logits: async (batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> => {
        asked.push(batch as TeacherBatch);
        return new Map([['sentiment', Float32Array.from([1, -1, 2, -2])]]);
      },
    };
    const tasks = [makeTask('sentiment', 'multiclass', ['negative', 'positive']), makeTask('topics', 'multilabel', ['price', 'staff', 'other'])];
    const ids = [Int32Array.from([2, 7, 3]), Int32Array.from([2, 3])];
    const feeds = await teacherFeeds(map, tasks, { texts: ['a b', ''], ids, maxLength: 16 }, 'hash');
    expect(asked).toEqual([{ texts: ['a b', ''], student: { ids, tokenizerHash: 'hash', maxLength: 16 } }]);
    expect(feeds['teacher_logits:sentiment']).toEqual({ dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, -1, 2, -2]) });
    expect(feeds['teacher_mask:sentiment']).toEqual({ dtype: 'float32', shape: [2], data: Float32Array.from([1, 1]) });
    expect(feeds['teacher_logits:topics']).toEqual({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
    expect(feeds['teacher_mask:topics']).toEqual({ dtype: 'float32', shape: [2], data: Float32Array.from([0, 0]) });
  });
});

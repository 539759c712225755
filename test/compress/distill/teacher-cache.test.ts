// The teacher cache: float16 rounding, hits and misses, reuse across opens, refusals of foreign files, and today's
// teacher files read through the same interface.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat, readSafetensors, writeSafetensors } from '../../../src/checkpoint/index.ts';
import type { TeacherBatch } from '../../../src/compress/distill/teacher.ts';
import { TeacherCache, teacherCacheFile } from '../../../src/compress/distill/teacher-cache.ts';
import { cachedTeacherLogits } from '../../../src/compress/distill/teacher-cached.ts';
import { TeacherFileCache } from '../../../src/compress/distill/teacher-file-cache.ts';
import { logitsFromProbabilities, probabilitiesFromLogits } from '../../../src/compress/distill/teacher-logits.ts';
import { makeSchema, makeTask, type Task } from '../../../src/data/schema.ts';
import { loadTeacher as loadTeacherFile } from '../../../src/train/teacher.ts';
import { Random } from '../../../src/util/random.ts';

const sentiment = makeTask('sentiment', 'multiclass', ['negative', 'neutral', 'positive']);
const emotion = makeTask('emotion', 'multilabel', ['joy', 'anger']);
const TASKS = [sentiment, emotion];
const dir = (): string => mkdtempSync(join(tmpdir(), 'xlmt-teacher-cache-'));

/** A teacher whose logits are a function of the text, counting the texts it ran on. */
function counting(tasks: readonly Task[]): { tasks: readonly Task[]; texts: string[]; logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> } {
  return {
    tasks,
    texts: [],
    async logits(batch) {
      const texts = Array.isArray(batch) ? (batch as readonly string[]) : (batch as TeacherBatch).texts;
      this.texts.push(...texts);
      return new Map(tasks.map((t) => [t.name, Float32Array.from(texts.flatMap((text) => t.labels.map((_, j) => text.length / 7 - j * 1.337)))]));
    },
  };
}

describe('float16', () => {
  it('round-trips every half exactly, and rounds to the nearest half, ties to even', () => {
    for (let bits = 0; bits < 65536; bits++) {
      const value = halfToFloat(bits);
      if (Number.isNaN(value)) expect(Number.isNaN(halfToFloat(floatToHalf(value)))).toBe(true);
      else expect(floatToHalf(value), `bits ${bits}`).toBe(bits);
    }
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // halfway between 1 and 1 + 2⁻¹⁰: the even one
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(2 ** -25))).toBe(0); // half the smallest subnormal: to even, zero
    expect(halfToFloat(floatToHalf(3 * 2 ** -26))).toBe(2 ** -24);
    expect(halfToFloat(floatToHalf(65519))).toBe(65504);
    expect(halfToFloat(floatToHalf(65520))).toBe(Infinity);
    expect(halfToFloat(floatToHalf(-1e9))).toBe(-Infinity);
  });

  it('picks the nearest half for random values of every magnitude', () => {
    const finite = Array.from({ length: 0x7c00 }, (_, bits) => halfToFloat(bits)); // the non-negative finite halves, ascending
    const random = new Random(5);
    for (let i = 0; i < 2000; i++) {
      const value = Math.fround(Math.exp(random.normal() * 6) * (random.next() < 0.5 ? -1 : 1));
      if (Math.abs(value) > 65504) continue;
      const got = halfToFloat(floatToHalf(value));
      let above = finite.findIndex((h) => h >= Math.abs(value));
      if (above < 0) above = finite.length - 1;
      const best = Math.min(Math.abs((finite[above] as number) - Math.abs(value)), Math.abs((finite[Math.max(0, above - 1)] as number) - Math.abs(value)));
      expect(Math.abs(Math.abs(got) - Math.abs(value)), `${value}`).toBe(best);
      expect(Math.sign(got) || 1).toBe(Math.sign(value) || 1);
    }
  });
});

describe('TeacherCache', () => {
  const owner = { fingerprint: 'ab'.repeat(32), tasks: TASKS };

  it('misses, computes, hits; rows come back as stored, in float16, across opens', async () => {
    const cacheDir = dir();
    const teacher = counting(TASKS);
    const cache = await TeacherCache.open(cacheDir, owner);
    const texts = ['a short one', 'a rather longer text here', 'a short one', 'mid text'];
    const first = await cachedTeacherLogits(teacher, cache, texts, { batchSize: 2 });
    expect(first).toMatchObject({ hits: 0, computed: 3 });
    expect(teacher.texts.sort()).toEqual(['a rather longer text here', 'a short one', 'mid text']);
    const exact = await teacher.logits(texts);
    for (const task of TASKS) {
      const got = first.logits.get(task.name) as Float32Array;
      const want = exact.get(task.name) as Float32Array;
      want.forEach((v, i) => {
        expect(Math.abs((got[i] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24);
        expect(got[i]).toBe(halfToFloat(floatToHalf(v)));
      });
    }
    expect(cache.pending).toBe(3);
    await cache.save();
    expect(cache.pending).toBe(0);

    const again = counting(TASKS);
    const reopened = await TeacherCache.open(cacheDir, owner);
    expect(reopened.size).toBe(3);
    const second = await cachedTeacherLogits(again, reopened, [...texts, 'new text'], { batchSize: 8 });
    expect(second).toMatchObject({ hits: 4, computed: 1 });
    expect(again.texts).toEqual(['new text']);
    for (const task of TASKS) expect((second.logits.get(task.name) as Float32Array).subarray(0, texts.length * task.labels.length)).toEqual(first.logits.get(task.name));
    expect(reopened.lookup('never seen')).toBeUndefined();

    const file = await readSafetensors(teacherCacheFile(cacheDir, owner.fingerprint));
    expect(file.tensors.get('logits:sentiment')).toMatchObject({ dtype: 'F16', shape: [3, 3] });
    expect(file.tensors.get('text_sha256')).toMatchObject({ dtype: 'U8', shape: [3, 32] });
    expect(file.metadata).toMatchObject({ format: 'xlmt-teacher-cache', teacher: owner.fingerprint });
  });

  it('keeps one file per teacher: another fingerprint starts empty', async () => {
    const cacheDir = dir();
    const cache = await TeacherCache.open(cacheDir, owner);
    cache.store('x', new Map([['sentiment', [1, 2, 3]], ['emotion', [0, 1]]]));
    await cache.save();
    expect((await TeacherCache.open(cacheDir, { ...owner, fingerprint: 'cd'.repeat(32) })).size).toBe(0);
    expect((await TeacherCache.open(cacheDir, owner)).lookup('x')?.get('sentiment')).toEqual(Float32Array.from([1, 2, 3]));
  });

  it('refuses a file of another teacher, other tasks or another format, and leaves it as it was', async () => {
    const cacheDir = dir();
    const cache = await TeacherCache.open(cacheDir, owner);
    cache.store('x', new Map([['sentiment', [1, 2, 3]], ['emotion', [0, 1]]]));
    await cache.save();
    const file = teacherCacheFile(cacheDir, owner.fingerprint);
    const before = readFileSync(file);
    await expect(TeacherCache.open(cacheDir, { fingerprint: `${'ab'.repeat(8)}${'00'.repeat(24)}`, tasks: TASKS })).rejects.toMatchObject({ code: 'TEACHER_CACHE_INVALID', where: { file }, problem: 'it holds another teacher\'s outputs' });
    await expect(TeacherCache.open(cacheDir, { ...owner, tasks: [sentiment, makeTask('emotion', 'multilabel', ['anger', 'joy'])] })).rejects.toMatchObject({ code: 'TEACHER_CACHE_INVALID', problem: 'its tasks or labels are not the teacher\'s' });
    expect(readFileSync(file)).toEqual(before);
    await writeSafetensors(file, [], { format: 'something-else' });
    await expect(TeacherCache.open(cacheDir, owner)).rejects.toMatchObject({ code: 'TEACHER_CACHE_INVALID', problem: 'not a teacher cache of this version' });
    writeFileSync(file, 'garbage');
    await expect(TeacherCache.open(cacheDir, owner)).rejects.toMatchObject({ code: 'TEACHER_CACHE_INVALID' });
  });

  it('refuses logits of the wrong width and NaN', async () => {
    const cache = await TeacherCache.open(dir(), owner);
    expect(() => cache.store('x', new Map([['sentiment', [1, 2]], ['emotion', [0, 1]]]))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', where: expect.objectContaining({ task: 'sentiment' }) }));
    expect(() => cache.store('x', new Map([['sentiment', [1, NaN, 3]], ['emotion', [0, 1]]]))).toThrow(expect.objectContaining({ code: 'NON_FINITE' }));
    expect(cache.size).toBe(0);
  });
});

describe('logits from probabilities', () => {
  it('recovers softmax logits up to a constant and sigmoid logits exactly, clamped where float32 saturates', () => {
    const z = [2.5, -1, 0.25];
    const p = probabilitiesFromLogits('multiclass', z, 3);
    const back = logitsFromProbabilities('multiclass', p);
    const shift = (back[0] as number) - 2.5;
    back.forEach((v, j) => expect(v - shift).toBeCloseTo(z[j] as number, 5));
    const sig = logitsFromProbabilities('multilabel', probabilitiesFromLogits('multilabel', [3, -4, 0], 3));
    expect([...sig].map((v) => Number(v.toFixed(4)))).toEqual([3, -4, 0]);
    const saturated = logitsFromProbabilities('multilabel', [1, 0]);
    expect(saturated[0]).toBeCloseTo(17.33, 2);
    expect(saturated[1]).toBeCloseTo(-87.34, 2);
    expect(logitsFromProbabilities('multiclass', [0, 1])[0]).toBeCloseTo(-87.34, 2);
  });
});

describe('teacher files through the cache interface', () => {
  it('give today\'s soft targets for each text, and nothing for other texts', async () => {
    const schema = makeSchema(TASKS, { kind: 'file', file: 'tasks.json' });
    const path = join(dir(), 'teacher.jsonl');
    const row = (text: string, tasks: unknown): string => JSON.stringify({ id: text, text, lang: 'en', tasks });
    writeFileSync(path, `${[
      row('good', { sentiment: { scores: { negative: 0.05, neutral: 0.15, positive: 0.8 } }, emotion: { scores: { joy: 0.9, anger: 0.01 } } }),
      row('bad', { sentiment: { scores: { negative: 1, neutral: 0, positive: 0 } } }),
      row('meh', { emotion: { scores: { joy: 0.5, anger: 0.999 } } }),
    ].join('\n')}\n`);
    const today = await loadTeacherFile(path, schema);
    const cache = await TeacherFileCache.read(path, schema);
    expect(cache.rows).toEqual(today);
    for (const r of today) {
      const logits = cache.lookup(r.text);
      expect([...(logits?.keys() ?? [])].sort()).toEqual([...r.soft.keys()].sort());
      for (const [task, soft] of r.soft) {
        const type = task === 'sentiment' ? 'multiclass' : 'multilabel';
        const targets = probabilitiesFromLogits(type, logits?.get(task) as Float32Array, soft.length);
        soft.forEach((p, j) => expect(Math.abs((targets[j] as number) - p), `${r.text} ${task} ${j}`).toBeLessThan(1e-6));
      }
    }
    expect(cache.lookup('unseen')).toBeUndefined();
  });

  it('averages the probabilities of a text on several rows', async () => {
    const schema = makeSchema([sentiment], { kind: 'file', file: 'tasks.json' });
    const path = join(dir(), 'teacher.jsonl');
    const row = (scores: unknown): string => JSON.stringify({ text: 'same', tasks: { sentiment: { scores } } });
    writeFileSync(path, `${row({ negative: 0.2, neutral: 0.2, positive: 0.6 })}\n${row({ negative: 0.6, neutral: 0.2, positive: 0.2 })}\n`);
    const targets = probabilitiesFromLogits('multiclass', (await TeacherFileCache.read(path, schema)).lookup('same')?.get('sentiment') as Float32Array, 3);
    [0.4, 0.2, 0.4].forEach((p, j) => expect(targets[j]).toBeCloseTo(p, 6));
  });
});

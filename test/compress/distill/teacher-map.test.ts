// Task-specific teachers: parsing --teacher-model values, every refusal of a map, and the average of the teachers
// of a task (teachers here are stand-ins with fixed logits; teacher-load.test.ts maps real ones).
import { describe, expect, it } from 'vitest';
import type { TeacherBatch } from '../../../src/compress/distill/teacher.ts';
import { assignTeachers, loadTeacherMap, parseTeacherFlags, TeacherMap } from '../../../src/compress/distill/teacher-map.ts';
import { makeTask, type Task } from '../../../src/data/schema.ts';

const sentiment = makeTask('sentiment', 'multiclass', ['negative', 'neutral', 'positive']);
const topic = makeTask('topic', 'multilabel', ['price', 'staff']);
const emotion = makeTask('emotion', 'multiclass', ['joy', 'anger']);
const STUDENT = [sentiment, topic, emotion];

/** A teacher of `tasks` whose logits are `value + label index` for every row. */
function fixed(tasks: readonly Task[], value: number): { tasks: readonly Task[]; calls: number; logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> } {
  return {
    tasks,
    calls: 0,
    async logits(batch) {
      this.calls++;
      const rows = Array.isArray(batch) ? batch.length : (batch as TeacherBatch).texts.length;
      return new Map(tasks.map((t) => [t.name, Float32Array.from({ length: rows * t.labels.length }, (_, i) => value + (i % t.labels.length))]));
    },
  };
}

describe('parseTeacherFlags', () => {
  it('reads DIR and TASK[,TASK…]=DIR, and a path holding "=" as a path', () => {
    expect(parseTeacherFlags(['runs/xlmr', 'sentiment=runs/a', 'topic,emotion=runs/b', 'runs/lr=0.1', './sentiment=x'])).toEqual([
      { value: 'runs/xlmr', tasks: null, path: 'runs/xlmr' },
      { value: 'sentiment=runs/a', tasks: ['sentiment'], path: 'runs/a' },
      { value: 'topic,emotion=runs/b', tasks: ['topic', 'emotion'], path: 'runs/b' },
      { value: 'runs/lr=0.1', tasks: null, path: 'runs/lr=0.1' },
      { value: './sentiment=x', tasks: null, path: './sentiment=x' },
    ]);
  });

  it.each([
    ['', /is empty/],
    ['=runs/a', /names an empty task/],
    ['topic,=runs/a', /names an empty task/],
    ['9lives=runs/a', /names no task: "9lives"/],
    ['topic,topic=runs/a', /names task "topic" twice/],
    ['topic=', /names no directory/],
  ])('refuses %j', (value, problem) => {
    let error: unknown;
    try {
      parseTeacherFlags([value], '--teacher-model');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'BAD_OPTION', where: { field: '--teacher-model' } });
    expect((error as Error).message).toMatch(problem);
  });
});

describe('assignTeachers', () => {
  const all = fixed(STUDENT, 0);
  const a = fixed([sentiment, makeTask('other', 'multiclass', ['x', 'y'])], 0);
  const b = fixed([topic, emotion], 0);

  it('maps a bare DIR to every student task it has, and named tasks to their teachers, in the student\'s order', () => {
    const map = assignTeachers(parseTeacherFlags(['topic,emotion=B', 'A']), [b, a], STUDENT);
    expect([...map.keys()]).toEqual(['sentiment', 'topic', 'emotion']);
    expect(map.get('sentiment')).toEqual([a]);
    expect(map.get('topic')).toEqual([b]);
    const twice = assignTeachers(parseTeacherFlags(['ALL', 'sentiment=ALL', 'sentiment=A']), [all, all, a], STUDENT);
    expect(twice.get('sentiment')).toEqual([all, a]);
  });

  it('refuses a student task no teacher covers, unless gold-only tasks are allowed', () => {
    const assignments = parseTeacherFlags(['sentiment=A']);
    expect(() => assignTeachers(assignments, [a], STUDENT)).toThrow(expect.objectContaining({
      code: 'TEACHER_TASK_UNCOVERED', where: { field: '--teacher-model', task: 'topic' }, message: expect.stringMatching(/"topic", "emotion".*received sentiment=A.*--teacher-model topic,emotion=DIR/),
    }));
    expect([...assignTeachers(assignments, [a], STUDENT, { allowGoldOnly: true }).keys()]).toEqual(['sentiment']);
  });

  it('refuses a teacher lacking the task it is mapped to, naming the value', () => {
    expect(() => assignTeachers(parseTeacherFlags(['sentiment,emotion=runs/a']), [a], STUDENT)).toThrow(expect.objectContaining({
      code: 'TEACHER_LACKS_TASK', where: { field: '--teacher-model sentiment,emotion=runs/a', task: 'emotion' }, received: 'tasks "sentiment", "other"',
    }));
    expect(() => assignTeachers(parseTeacherFlags(['runs/c']), [fixed([makeTask('other', 'multiclass', ['x', 'y'])], 0)], STUDENT)).toThrow(expect.objectContaining({
      code: 'TEACHER_LACKS_TASK', where: { field: '--teacher-model runs/c' },
    }));
  });

  it('refuses a task the student lacks, with a suggestion', () => {
    expect(() => assignTeachers(parseTeacherFlags(['sentimnt=A']), [a], STUDENT)).toThrow(expect.objectContaining({
      code: 'BAD_OPTION', where: { field: '--teacher-model sentimnt=A' }, hint: 'did you mean "sentiment"?',
    }));
  });

  it.each([
    ['another order', makeTask('sentiment', 'multiclass', ['positive', 'neutral', 'negative'])],
    ['other names', makeTask('sentiment', 'multiclass', ['neg', 'neutral', 'pos'])],
    ['fewer labels', makeTask('sentiment', 'multiclass', ['negative', 'positive'])],
    ['another type', makeTask('sentiment', 'multilabel', ['negative', 'neutral', 'positive'])],
  ])('refuses labels in %s', (_, taught) => {
    expect(() => assignTeachers(parseTeacherFlags(['sentiment=runs/a']), [fixed([taught], 0)], [sentiment], {})).toThrow(expect.objectContaining({
      code: 'TEACHER_LABELS_DIFFER', where: { field: '--teacher-model sentiment=runs/a', task: 'sentiment' }, expected: 'multiclass ["negative","neutral","positive"] (the student\'s, in its order)',
    }));
  });

  it('refuses a teacher path that is not a model, naming the flag value', async () => {
    await expect(loadTeacherMap(['topic=/nonexistent/teacher'], STUDENT)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND', where: { file: '/nonexistent/teacher', field: '--teacher-model topic=/nonexistent/teacher' },
    });
    await expect(loadTeacherMap(['topic=.'], STUDENT)).rejects.toMatchObject({ code: 'NOT_A_MODEL', where: { field: '--teacher-model topic=.' } });
  });
});

describe('TeacherMap', () => {
  it('runs each teacher once per batch and averages the logits of a task\'s teachers', async () => {
    const one = fixed([sentiment, topic], 1);
    const three = fixed([sentiment], 3);
    const map = new TeacherMap(assignTeachers(parseTeacherFlags(['ONE', 'sentiment=THREE']), [one, three], STUDENT, { allowGoldOnly: true }), STUDENT);
    expect(map.goldOnlyTasks).toEqual(['emotion']);
    const logits = await map.logits(['a', 'b']);
    expect([...logits.keys()]).toEqual(['sentiment', 'topic']);
    expect([...(logits.get('sentiment') ?? [])]).toEqual([2, 3, 4, 2, 3, 4]);
    expect([...(logits.get('topic') ?? [])]).toEqual([1, 2, 1, 2]);
    expect([one.calls, three.calls]).toEqual([1, 1]);
  });
});

// A teacher's predictions as soft targets: reading the file, and every problem reported at its line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/index.ts';
import { makeSchema, makeTask } from '../../src/data/schema.ts';
import { loadTeacher, loadTeachers, withoutGoldTasks } from '../../src/train/teacher.ts';
import { taskMembers } from '../../src/train/sampler.ts';

const schema = makeSchema([
  makeTask('sentiment', 'multiclass', ['negative', 'neutral', 'positive']),
  makeTask('emotion', 'multilabel', ['joy', 'anger']),
], { kind: 'file', file: 'tasks.json' });

function file(lines: readonly string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'xlmt-teacher-')), 'teacher.jsonl');
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

const row = (tasks: unknown, text = 'a text'): string => JSON.stringify({ id: 'x', line: 1, text, lang: 'en', tasks, truncated: false });
/** What `xlmt predict` writes without `--keep text`. */
const textless = (tasks: unknown): string => JSON.stringify({ id: 'x', line: 1, lang: 'en', tasks, truncated: false });

async function problems(lines: readonly string[]): Promise<string[]> {
  const error = await loadTeacher(file(lines), schema).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  return (error as DataError).issues.map((i) => `${i.line}:${i.code}:${i.field ?? ''}`);
}

describe('teacher predictions', () => {
  it("reads xlmt predict's rows: multiclass distributions renormalized, multilabel probabilities as given", async () => {
    const rows = await loadTeacher(file([
      row({ sentiment: { label: 'positive', scores: { negative: 0.1, neutral: 0.2, positive: 0.7004 } } }),
      '',
      row({ emotion: { labels: ['joy'], scores: { joy: 0.9, anger: 0.3 } }, sentiment: { scores: { negative: 1, neutral: 0, positive: 0 } } }, 'another'),
    ]), schema);
    expect(rows.map((r) => [r.text, r.line, [...r.soft.keys()]])).toEqual([['a text', 1, ['sentiment']], ['another', 3, ['emotion', 'sentiment']]]);
    const sentiment = [...(rows[0]?.soft.get('sentiment') ?? [])];
    expect(sentiment.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(sentiment[2]).toBeCloseTo(0.7004 / 1.0004, 6);
    expect([...(rows[1]?.soft.get('emotion') ?? [])]).toEqual([Math.fround(0.9), Math.fround(0.3)]);
  });

  it('reports every bad row at its line, naming the field', async () => {
    expect(await problems([
      '{"text": "a", "tasks": ',
      textless({ sentiment: { scores: { negative: 0.5, neutral: 0.5, positive: 0 } } }),
      row({ sentimnt: { scores: {} } }),
      row({ sentiment: { scores: { negative: 0.5, neutral: 0.5, postive: 0 } } }),
      row({ sentiment: { scores: { negative: 0.6, neutral: 0.6, positive: 0 } } }),
      row({ emotion: { scores: { joy: 1.5, anger: '0.1' } } }),
      row({ emotion: { labels: [] } }),
      row({}),
      '[1]',
    ])).toEqual([
      '1:BAD_JSON:',
      '2:MISSING_TEXT:text',
      '3:UNKNOWN_TASK:tasks.sentimnt',
      '4:UNKNOWN_LABEL:tasks.sentiment.scores.postive',
      '4:BAD_SCORES:tasks.sentiment.scores.positive',
      '5:BAD_SCORES:tasks.sentiment.scores',
      '6:BAD_SCORES:tasks.emotion.scores.joy',
      '6:BAD_SCORES:tasks.emotion.scores.anger',
      '7:WRONG_TYPE:tasks.emotion.scores',
      '8:NO_LABELS:tasks',
      '9:NOT_AN_OBJECT:',
    ]);
  });

  it('tells how to keep the text, and refuses an empty or missing file', async () => {
    const error = await loadTeacher(file([textless({ sentiment: { scores: { negative: 1, neutral: 0, positive: 0 } } })]), schema).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/xlmt predict --keep text,lang/);
    expect(await problems([''])).toEqual(['null:EMPTY_FILE:']);
    await expect(loadTeacher('/nonexistent/teacher.jsonl', schema)).rejects.toThrow(/\/nonexistent\/teacher\.jsonl.*cannot read/);
  });

  it('puts each teacher row in one task queue, in turn over the tasks it has scores for', () => {
    const gold = [{ labels: new Map<string, unknown>([['sentiment', 0]]) }, { labels: new Map<string, unknown>([['sentiment', 1], ['emotion', [0]]]) }];
    const both = new Map([['sentiment', 0], ['emotion', 0]]);
    const teacher = [{ soft: both }, { soft: both }, { soft: new Map([['emotion', 0]]) }, { soft: both }];
    const members = taskMembers(gold, teacher, schema.tasks);
    expect(Object.fromEntries(members)).toEqual({ sentiment: [0, 1, 2], emotion: [1, 3, 4, 5] });
  });
});

describe('teacher ensembles and gold labels', () => {
  const scores = (negative: number): unknown => ({ sentiment: { scores: { negative, neutral: 0, positive: 1 - negative } } });

  it('averages the teachers that score a row and task', async () => {
    const a = file([row(scores(0.2), 'one'), row({ emotion: { scores: { joy: 0.5, anger: 0 } } }, 'two')]);
    const b = file([row(scores(0.6), 'one'), row({ ...(scores(1) as object), emotion: { scores: { joy: 1, anger: 0.5 } } }, 'two')]);
    const rows = await loadTeachers([a, b], schema);
    expect([...(rows[0]?.soft.get('sentiment') ?? [])].map((p) => +p.toFixed(6))).toEqual([0.4, 0, 0.6]);
    expect([...(rows[1]?.soft.get('emotion') ?? [])]).toEqual([0.75, 0.25]);
    expect([...(rows[1]?.soft.get('sentiment') ?? [])]).toEqual([1, 0, 0]); // scored by one teacher only
  });

  it('refuses teachers that do not score the same rows, naming the file and line', async () => {
    const a = file([row(scores(0.2), 'one'), row(scores(0.2), 'two')]);
    await expect(loadTeachers([a, file([row(scores(0.2), 'one')])], schema)).rejects.toThrow(/teacher\.jsonl: .*same rows.*expected 2 rows/);
    await expect(loadTeachers([a, file([row(scores(0.2), 'one'), row(scores(0.2), 'three')])], schema)).rejects.toThrow(/teacher\.jsonl:2: text: .*expected "two"/);
  });

  it('leaves out the scores of tasks a text has gold labels for, and rows left with none', () => {
    const soft = (...tasks: string[]): ReadonlyMap<string, Float32Array> => new Map(tasks.map((t) => [t, new Float32Array(3)]));
    const rows = [{ text: 'a', soft: soft('sentiment', 'emotion'), line: 1 }, { text: 'b', soft: soft('sentiment'), line: 2 }, { text: 'c', soft: soft('emotion'), line: 3 }];
    const gold = [{ text: 'a', labels: new Map([['sentiment', 0]]) }, { text: 'b', labels: new Map([['sentiment', 1]]) }];
    const { rows: kept, dropped, droppedRows } = withoutGoldTasks(rows, gold);
    expect(kept.map((r) => [r.text, [...r.soft.keys()]])).toEqual([['a', ['emotion']], ['c', ['emotion']]]);
    expect([dropped, droppedRows]).toEqual([2, 1]);
  });
});

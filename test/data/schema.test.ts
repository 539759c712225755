// Task schema files: parsing, label indices, round trips, and every kind of schema error with its path.
import { describe, expect, it } from 'vitest';
import { DataError, loadTaskSchema, parseTaskSchema, renderIssue, taskSchemaToJson } from '../../src/data/index.ts';
import { file, issuesOf } from './helpers.ts';

describe('parseTaskSchema', () => {
  it('reads tasks in file order with label indices and keeps extra fields', () => {
    const s = parseTaskSchema({
      sentiment: { type: 'multiclass', labels: ['negative', 'neutral', 'positive'], source: 'UMSAB' },
      emotion: { type: 'multilabel', labels: ['joy'] },
    });
    expect(s.tasks.map((t) => [t.name, t.type, t.labels.length])).toEqual([
      ['sentiment', 'multiclass', 3],
      ['emotion', 'multilabel', 1],
    ]);
    expect(s.byName.get('sentiment')?.index.get('positive')).toBe(2);
    expect(s.byName.get('sentiment')?.extra).toEqual({ source: 'UMSAB' });
    expect(s.origin).toEqual({ kind: 'inline', file: null });
    expect(taskSchemaToJson(s)).toEqual({
      sentiment: { type: 'multiclass', labels: ['negative', 'neutral', 'positive'], source: 'UMSAB' },
      emotion: { type: 'multilabel', labels: ['joy'] },
    });
  });

  it('reports every problem at once, each with its JSON path, expected and received', () => {
    let error: unknown;
    try {
      parseTaskSchema(
        {
          a: { type: 'multiclass', labels: ['x'] },
          b: { type: 'multilabel', labels: [] },
          c: { type: 'ordinal', labels: ['x', 'y'] },
          d: { type: 'multiclass', labels: ['x', 'y', 'x'] },
          'bad name': { type: 'multiclass', labels: ['x', 'y'] },
          e: { type: 'multiclass' },
          f: { type: 'multilabel', labels: ['ok', ' padded', '', 3] },
        },
        'tasks.json',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    const lines = (error as DataError).issues.map(renderIssue);
    expect(lines).toEqual([
      'tasks.json: a.labels: a multiclass task needs at least 2 labels (expected at least 2; received 1)',
      'tasks.json: b.labels: a multilabel task needs at least 1 label (expected at least 1; received 0)',
      'tasks.json: c.type: unknown task type (expected "multiclass" or "multilabel"; received "ordinal")',
      'tasks.json: d.labels[2]: duplicate label (first at labels[0]) (expected unique labels; received "x")',
      'tasks.json: bad name: invalid task name (expected letters, digits, "_" or "-"; received "bad name")',
      'tasks.json: e.labels: labels must be an array of strings (expected array; received nothing)',
      'tasks.json: f.labels[1]: a label must not start or end with whitespace (expected a label without surrounding whitespace; received " padded")',
      'tasks.json: f.labels[2]: a label must not be empty (expected a non-empty string; received "")',
      'tasks.json: f.labels[3]: a label must be a string (expected string; received number)',
    ]);
    expect((error as DataError).issues.every((i) => i.code === 'BAD_SCHEMA' && i.line === null)).toBe(true);
  });

  it('rejects a schema that is not an object of tasks, or has none', async () => {
    const notObject = await issuesOf(Promise.resolve().then(() => parseTaskSchema(['sentiment'], 's.json')));
    expect(notObject.map(renderIssue)).toEqual(['s.json: a task schema must be a JSON object of tasks (expected object; received array)']);
    const empty = await issuesOf(Promise.resolve().then(() => parseTaskSchema({}, 's.json')));
    expect(empty.map(renderIssue)).toEqual(['s.json: a task schema needs at least one task (expected at least one task; received {})']);
  });
});

describe('loadTaskSchema', () => {
  it('loads the xm-bench tasks.json', async () => {
    const s = await loadTaskSchema('../shared/data/xm-bench/tasks.json');
    expect(s.tasks.map((t) => `${t.name}:${t.type}:${t.labels.length}`)).toEqual(['sentiment:multiclass:3', 'topic:multiclass:7', 'emotion:multilabel:8']);
    expect(s.origin).toEqual({ kind: 'file', file: '../shared/data/xm-bench/tasks.json' });
    expect(s.byName.get('emotion')?.extra['source']).toBe('XED (Helsinki-NLP/XED), movie subtitles; [] = neutral');
  });

  it('names the line and column of invalid JSON', async () => {
    const path = file('broken-tasks.json', '{\n  "a": {"type": "multiclass", "labels": ["x", "y"],}\n}\n');
    const issues = await issuesOf(loadTaskSchema(path));
    expect(issues.map(renderIssue)).toEqual([`${path}:2: invalid JSON: Expected double-quoted property name at column 52 (expected a JSON object of tasks)`]);
  });

  it('reports a missing file as READ_FAILED', async () => {
    const issues = await issuesOf(loadTaskSchema('no/such/tasks.json'));
    expect(issues.map((i) => [i.code, i.file])).toEqual([['READ_FAILED', 'no/such/tasks.json']]);
    expect(issues[0]?.message).toMatch(/^cannot read the task schema: ENOENT/);
  });

  it('puts the file path on validation errors', async () => {
    const path = file('bad-type.json', JSON.stringify({ s: { type: 'binary', labels: ['a', 'b'] } }));
    const issues = await issuesOf(loadTaskSchema(path));
    expect(issues.map(renderIssue)).toEqual([`${path}: s.type: unknown task type (expected "multiclass" or "multilabel"; received "binary")`]);
  });
});

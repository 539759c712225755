// `xlmt data inspect`: the printed table, the JSON form, an inferred schema, CSV flags, and bad input.
import { describe, expect, it } from 'vitest';
import { dataCommand } from '../../src/cli/data.ts';
import { DataError } from '../../src/data/index.ts';
import { file, jsonl } from './helpers.ts';

const TASKS = file(
  'tasks.json',
  JSON.stringify({
    sentiment: { type: 'multiclass', labels: ['negative', 'neutral', 'positive'], source: 'test' },
    emotion: { type: 'multilabel', labels: ['anger', 'joy'] },
  }),
);

const ROWS = jsonl('inspect.jsonl', [
  { text: 'a', lang: 'en', labels: { sentiment: 'positive' } },
  { text: 'b', lang: 'en', labels: { sentiment: 'negative', emotion: ['anger', 'joy'] } },
  { text: 'c', lang: 'de', labels: { emotion: [] } },
  { text: 'd', lang: 'de', labels: { emotion: ['joy'] } },
  { text: 'e', lang: 'es', labels: { sentiment: 'positive' } },
]);

/** Runs `data <args>` in-process and returns what it printed. */
async function run(...args: string[]): Promise<string> {
  let out = '';
  const command = dataCommand((text) => (out += text));
  for (const c of [command, ...command.commands]) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await command.parseAsync(args, { from: 'user' });
  return out;
}

describe('xlmt data inspect', () => {
  it('prints one task × language × label table per task', async () => {
    const out = await run('inspect', ROWS, '--tasks', TASKS);
    expect(out.replaceAll(ROWS, 'inspect.jsonl').replaceAll(TASKS, 'tasks.json')).toBe(
      [
        'file       inspect.jsonl (jsonl)',
        'rows       5 in 3 languages, 0 labeled for no task',
        'schema     tasks.json: sentiment multiclass (3 labels), emotion multilabel (2 labels)',
        'languages  de 2, en 2, es 1',
        '',
        'sentiment (multiclass): 3 rows labeled, 2 not',
        'label     en  es  total',
        'negative   1   0      1',
        'neutral    0   0      0',
        'positive   1   1      2',
        'rows       2   1      3',
        '',
        'emotion (multilabel): 3 rows labeled, 2 not; a row counts once for each of its labels',
        'label      de  en  total',
        'anger       0   1      1',
        'joy         1   1      2',
        '[] (none)   1   0      1',
        'rows        2   1      3',
        '',
      ].join('\n'),
    );
  });

  it('prints the schema and counts as JSON with --json', async () => {
    const out = JSON.parse(await run('inspect', ROWS, '--tasks', TASKS, '--json')) as Record<string, unknown>;
    expect(out['format']).toBe('jsonl');
    expect(out['schema']).toMatchObject({ origin: { kind: 'file', file: TASKS }, tasks: { sentiment: { type: 'multiclass', labels: ['negative', 'neutral', 'positive'], source: 'test' } } });
    expect(out['stats']).toMatchObject({ rows: 5, unlabeledRows: 0, rowsByLang: { de: 2, en: 2, es: 1 } });
    const tasks = (out['stats'] as { tasks: { task: string; labeled: number; emptySet: number; labels: object }[] }).tasks;
    expect(tasks.map((t) => [t.task, t.labeled, t.emptySet, t.labels])).toEqual([
      ['sentiment', 3, 0, { negative: 1, neutral: 0, positive: 2 }],
      ['emotion', 3, 1, { anger: 1, joy: 2 }],
    ]);
  });

  it('says when the schema is inferred from the data', async () => {
    const out = await run('inspect', ROWS);
    expect(out.split('\n')[2]).toBe(
      'schema     inferred from the data, no task schema given: sentiment multiclass (2 labels), emotion multilabel (2 labels) (labels sorted; strings mean multiclass, arrays multilabel)',
    );
  });

  it('reads CSV through the column flags', async () => {
    const csv = file('inspect.tsv', 'body\tmood\tstance\nhola\tjoy\tpositive\nhey\t[]\t\n');
    const out = await run('inspect', csv, '--tasks', TASKS, '--text-column', 'body', '--lang', 'es', '--label-column', 'emotion=mood', '--label-column', 'sentiment=stance', '--json');
    const stats = (JSON.parse(out) as { stats: { rowsByLang: object; tasks: { labeled: number; emptySet: number }[] } }).stats;
    expect(stats.rowsByLang).toEqual({ es: 2 });
    expect(stats.tasks.map((t) => [t.labeled, t.emptySet])).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });

  it('fails with every problem rendered', async () => {
    const bad = jsonl('inspect-bad.jsonl', [
      { text: 'a', lang: 'en', labels: { sentiment: 'positiv' } },
      { text: '', lang: 'en', labels: { emotion: 'joy' } },
    ]);
    const error = await run('inspect', bad, '--tasks', TASKS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message.replaceAll(bad, 'inspect-bad.jsonl')).toBe(
      [
        '3 problems in inspect-bad.jsonl (1 UNKNOWN_LABEL, 1 EMPTY_TEXT, 1 WRONG_LABEL_TYPE):',
        '  inspect-bad.jsonl:1: labels.sentiment: unknown label for task sentiment (expected one of "negative", "neutral", "positive"; received "positiv"). Did you mean "positive"?',
        '  inspect-bad.jsonl:2: text: the text is empty (expected a non-empty string; received "")',
        '  inspect-bad.jsonl:2: labels.emotion: wrong label type for multilabel task emotion (expected an array of labels; received string "joy"). Write ["joy"]; [] means none of the labels',
      ].join('\n'),
    );
  });

  it('rejects a malformed --label-column', async () => {
    const error = await run('inspect', ROWS, '--label-column', 'sentiment').catch((e: unknown) => e);
    expect((error as Error).message).toBe('error: option \'--label-column <task=column>\' argument \'sentiment\' is invalid. --label-column expects task=column, got "sentiment"');
  });
});

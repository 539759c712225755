// CSV and TSV loading: column mapping, quoting, multilabel cells, record line numbers, and header problems.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDataset, parseTaskSchema, renderIssue, type Example } from '../../src/data/index.ts';
import { brief, file, issuesOf, schema } from './helpers.ts';

const labelsOf = (ex: Example) => Object.fromEntries(ex.labels);

describe('loadDataset (CSV/TSV)', () => {
  it('maps columns, reads quoted commas, line breaks and doubled quotes, and splits multilabel cells', async () => {
    const path = file(
      'mapped.csv',
      [
        'id,body,language,sent,emo',
        '1,"Hello, world",en,positive,joy|trust',
        '2,"Multi',
        'line, text",de,,[]',
        '3,Plain,fr,negative,',
        '4,"She said ""hi""",es,, anger | joy ',
      ].join('\n'),
    );
    const csv = { textColumn: 'body', langColumn: 'language', labelColumns: { sentiment: 'sent', emotion: 'emo' } };
    const d = await loadDataset(path, { schema, csv });
    expect(d.format).toBe('csv');
    expect(d.examples.map((e) => [e.id, e.text, e.lang, e.line])).toEqual([
      ['1', 'Hello, world', 'en', 2],
      ['2', 'Multi\nline, text', 'de', 3],
      ['3', 'Plain', 'fr', 5],
      ['4', 'She said "hi"', 'es', 6],
    ]);
    expect(d.examples.map(labelsOf)).toEqual([{ sentiment: 2, emotion: [1, 2] }, { emotion: [] }, { sentiment: 0 }, { emotion: [0, 1] }]);
  });

  it('defaults to columns named text, lang, id and after the schema tasks', async () => {
    const path = file('defaults.csv', 'text,lang,topic,emotion,notes\nGoal!,en,sports,joy,ignored\nNo id,de,,[],\n');
    const d = await loadDataset(path, { schema });
    expect(d.examples.map((e) => [e.id, labelsOf(e)])).toEqual([
      ['defaults.csv:2', { topic: 1, emotion: [1] }],
      ['defaults.csv:3', { emotion: [] }],
    ]);
  });

  it('reads TSV with a custom separator and empty-set token, and a fixed language', async () => {
    const path = file('custom.tsv', 'text\temotion\n"tab\there"\tjoy;trust\nnothing\tnone\nplain "quotes" inside\tanger\n');
    const d = await loadDataset(path, { schema, defaultLang: 'pt', csv: { separator: ';', emptySet: 'none' } });
    expect(d.format).toBe('tsv');
    expect(d.examples.map((e) => [e.text, e.lang, labelsOf(e)])).toEqual([
      ['tab\there', 'pt', { emotion: [1, 2] }],
      ['nothing', 'pt', { emotion: [] }],
      ['plain "quotes" inside', 'pt', { emotion: [0] }],
    ]);
  });

  it('numbers records by the line they start on, with CRLF inside and between quoted fields', async () => {
    const path = file('crlf.csv', 'text,lang,sentiment\r\n"one\r\ntwo\r\nthree",en,neutral\r\n\r\nfour,en,bad\r\n');
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(brief(issues)).toEqual(['6 UNKNOWN_LABEL column "sentiment" (sentiment)']);
  });

  it('reports every row problem with the record line and column', async () => {
    const path = file(
      'bad.csv',
      [
        'id,text,lang,sentiment,emotion', // 1
        'a,ok,en,positive,joy', // 2
        'b,"spans', // 3
        'two lines",en,postive,joy|joy', // 4
        'c,no lang,,neutral,', // 5
        'd,,en,neutral,', // 6
        'e,extra,en,neutral,joy,surplus', // 7
        'a,dup,en,,joy||trust', // 8
        'f,unlabeled,en,,', // 9
      ].join('\n'),
    );
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(brief(issues)).toEqual([
      '3 UNKNOWN_LABEL column "sentiment" (sentiment)',
      '3 DUPLICATE_LABEL column "emotion" (emotion)[1]',
      '5 MISSING_LANG column "lang"',
      '6 EMPTY_TEXT column "text"',
      '7 BAD_CSV -',
      '8 DUPLICATE_ID column "id"',
      '8 UNKNOWN_LABEL column "emotion" (emotion)[1]',
      '9 NO_LABELS columns "sentiment", "emotion"',
    ]);
    const text = issues.map(renderIssue).map((l) => l.replace(path, 'bad.csv'));
    expect(text[0]).toBe('bad.csv:3: column "sentiment" (sentiment): unknown label for task sentiment (expected one of "negative", "neutral", "positive"; received "postive"). Did you mean "positive"?');
    expect(text[4]).toBe('bad.csv:7: wrong number of fields (expected 5 fields, as in the header; received 6). Quote fields that contain the delimiter or line breaks');
    expect(text[6]).toBe('bad.csv:8: column "emotion" (emotion)[1]: unknown label for task emotion (expected one of "anger", "joy", "trust"; received ""). An empty label: check for doubled or trailing separators');
  });

  it('reports an unclosed quote at the line its record starts', async () => {
    const path = file('quote.csv', 'text,lang,sentiment\nfine,en,neutral\n"never closed,en,neutral\nmore,en,neutral\n');
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(issues.map(renderIssue).map((l) => l.replace(path, 'quote.csv'))).toEqual([
      'quote.csv:3: a quoted field is never closed. Fields with quotes, delimiters or line breaks must be quoted, with inner quotes doubled ("")',
    ]);
  });

  it('reports header problems once, at the header line, instead of once per row', async () => {
    const path = file('header.csv', 'id,txt,sentiment,sentiment\nx,hello,neutral,neutral\ny,hi,neutral,neutral\n');
    const issues = await issuesOf(loadDataset(path, { schema, csv: { labelColumns: { sentiment: 'sentiment', mood: 'mood' } } }));
    expect(issues.map(renderIssue).map((l) => l.replace(path, 'header.csv'))).toEqual([
      'header.csv:1: column "sentiment": the header names a column twice (expected unique column names; received "sentiment")',
      'header.csv:1: no text column (expected a column named "text"; received columns "id", "txt", "sentiment", "sentiment"). Did you mean "txt"?',
      'header.csv:1: no language column (expected a column named "lang"; received columns "id", "txt", "sentiment", "sentiment"). Set the language column (langColumn, --lang-column) or a default language (defaultLang, --lang)',
      'header.csv:1: column "mood": the label mapping names a task the schema lacks (expected one of "sentiment", "topic", "emotion"; received "mood"). Add the task to the schema',
      'header.csv:1: no label column for task mood (expected a column named "mood"; received columns "id", "txt", "sentiment", "sentiment"). Check the label mapping (labelColumns, --label-column task=column)',
    ]);
  });

  it('needs label columns unless unlabeled rows are allowed', async () => {
    const path = file('nolabels.csv', 'text,lang\nhello,en\n');
    expect(brief(await issuesOf(loadDataset(path, { schema })))).toEqual(['1 MISSING_COLUMN -']);
    const d = await loadDataset(path, { schema, allowUnlabeled: true });
    expect(d.examples.map((e) => [e.text, e.labels.size])).toEqual([['hello', 0]]);
  });

  it('rejects a separator that occurs in a multilabel label', async () => {
    const slashSchema = parseTaskSchema({ aspects: { type: 'multilabel', labels: ['price/value', 'delivery'] } });
    const path = file('sep.csv', 'text,lang,aspects\nok,en,delivery\n');
    const issues = await issuesOf(loadDataset(path, { schema: slashSchema, csv: { separator: '/' } }));
    expect(issues.map(renderIssue).map((l) => l.replace(path, 'sep.csv'))).toEqual([
      'sep.csv:1: separator: task aspects has a label containing the multilabel separator (expected a separator no label contains; received "/" in label "price/value"). Choose another separator (separator, --separator)',
    ]);
  });

  it('treats a header-only or empty file as empty', async () => {
    expect(brief(await issuesOf(loadDataset(file('head.csv', 'text,lang,sentiment\n'), { schema })))).toEqual(['- EMPTY_FILE -']);
    expect(brief(await issuesOf(loadDataset(file('zero.csv', ''), { schema })))).toEqual(['- EMPTY_FILE -']);
  });

  it('infers task types from the cells when no schema is given', async () => {
    const path = file('infer.csv', 'text,lang,stars,aspects\na,en,5,price\nb,en,1,price|delivery\nc,de,,[]\n');
    const d = await loadDataset(path, { csv: { labelColumns: { stars: 'stars', aspects: 'aspects' } } });
    expect(d.schema.tasks.map((t) => [t.name, t.type, t.labels])).toEqual([
      ['stars', 'multiclass', ['1', '5']],
      ['aspects', 'multilabel', ['delivery', 'price']],
    ]);
    expect(d.examples.map(labelsOf)).toEqual([{ stars: 1, aspects: [1] }, { stars: 0, aspects: [0, 1] }, { aspects: [] }]);
  });

  it('reports each line holding invalid UTF-8, by line and byte', async () => {
    const path = file('latin1.csv', '');
    writeFileSync(path, Buffer.concat([Buffer.from('text,lang,sentiment\ngood,en,positive\ncaf'), Buffer.from([0xe9]), Buffer.from(',fr,positive\n')]));
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(brief(issues)).toEqual(['3 INVALID_UTF8 -']);
    expect(renderIssue(issues[0] as never)).toContain('invalid UTF-8 at byte 4 of the line');
  });
});

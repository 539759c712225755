// JSONL loading: label indices and partial labels, and every validation error with its file:line.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError, loadDataset, renderIssue, type Example } from '../../src/data/index.ts';
import { brief, file, issuesOf, jsonl, schema } from './helpers.ts';

const labelsOf = (ex: Example | undefined) => Object.fromEntries(ex?.labels ?? []);

describe('loadDataset (JSONL)', () => {
  it('loads partial labels as label indices in schema order', async () => {
    const path = jsonl('partial.jsonl', [
      { id: 'a', text: 'Great match!', lang: 'en', labels: { sentiment: 'positive', topic: 'sports' } },
      { text: 'Mir geht es gut', lang: 'de', labels: { emotion: ['trust', 'joy'] } },
      { id: 'c', text: 'Rien.', lang: 'fr', labels: { emotion: [] } },
      { id: 'd', text: 'Viaje', lang: 'es', labels: { topic: 'travel', emotion: ['anger'] } },
    ]);
    const d = await loadDataset(path, { schema });
    expect(d.format).toBe('jsonl');
    expect(d.examples.map((e) => [e.id, e.lang, e.line])).toEqual([
      ['a', 'en', 1],
      ['partial.jsonl:2', 'de', 2],
      ['c', 'fr', 3],
      ['d', 'es', 4],
    ]);
    expect(d.examples.map(labelsOf)).toEqual([
      { sentiment: 2, topic: 1 },
      { emotion: [1, 2] }, // joy, trust: sorted indices whatever the order in the file
      { emotion: [] },
      { topic: 2, emotion: [0] },
    ]);
    expect(d.examples[0]?.text).toBe('Great match!');
  });

  it('skips blank lines without shifting line numbers, and reads a byte-order mark', async () => {
    const row = (id: string) => JSON.stringify({ id, text: 't', lang: 'en', labels: { sentiment: 'neutral' } });
    const path = file('blank.jsonl', `\uFEFF${row('a')}\n\n   \n${row('b')}\r\n${JSON.stringify({ text: 't', lang: 'en', labels: { sentiment: 'bad' } })}\n`);
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(brief(issues)).toEqual(['5 UNKNOWN_LABEL labels.sentiment']);
    const ok = file('blank-ok.jsonl', `\uFEFF${row('a')}\n\n${row('b')}\n\n`);
    expect((await loadDataset(ok, { schema })).examples.map((e) => [e.id, e.line])).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
  });

  it('reports every problem in the file, each with its line and field', async () => {
    const ok = { text: 't', lang: 'en', labels: { sentiment: 'negative' } };
    const path = jsonl('bad.jsonl', [
      { id: 'a', ...ok }, // 1: fine
      '{"text": "x", "lang": "en", "labels": {"sentiment": "positive",}}', // 2
      '[1, 2]', // 3
      { id: 'b', lang: 'en', labels: { sentiment: 'neutral' } }, // 4
      { id: 'c', text: '   ', lang: 'en', labels: { sentiment: 'neutral' } }, // 5
      { id: 'd', text: 't', labels: { sentiment: 'neutral' } }, // 6
      { id: 'a', ...ok }, // 7
      { id: 'e', text: 't', lang: 'en', labels: { sentimnt: 'negative' } }, // 8
      { id: 'f', text: 't', lang: 'en', labels: { sentiment: 'postive' } }, // 9
      { id: 'g', text: 't', lang: 'en', labels: { emotion: 'joy' } }, // 10
      { id: 'h', text: 't', lang: 'en', labels: { sentiment: ['positive'] } }, // 11
      { id: 'i', text: 't', lang: 'en', labels: { emotion: ['joy', 'anger', 'joy'] } }, // 12
      { id: 'j', text: 't', lang: 'en', labels: {} }, // 13
      { id: 'k', text: 't', lang: 'en', label: { sentiment: 'neutral' } }, // 14
      { id: 5, ...ok }, // 15
      { id: 'l', text: 7, lang: 'en', labels: { sentiment: 'neutral' } }, // 16
      { id: 'm', text: 't', lang: 'en', labels: 'positive' }, // 17
      { id: 'n', text: 't', lang: 'en', labels: { emotion: [1], topic: null } }, // 18
      { id: 'o', text: 't', lang: 'en', labels: { emotion: ['Joy'] } }, // 19
      { id: 'p', text: 't', lang: null, labels: { sentiment: 'neutral' } }, // 20
      { id: 'q', text: 't', lang: 'en US', labels: { sentiment: 'neutral' } }, // 21
    ]);
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(brief(issues)).toEqual([
      '2 BAD_JSON -',
      '3 NOT_AN_OBJECT -',
      '4 MISSING_TEXT text',
      '5 EMPTY_TEXT text',
      '6 MISSING_LANG lang',
      '7 DUPLICATE_ID id',
      '8 UNKNOWN_TASK labels.sentimnt',
      '9 UNKNOWN_LABEL labels.sentiment',
      '10 WRONG_LABEL_TYPE labels.emotion',
      '11 WRONG_LABEL_TYPE labels.sentiment',
      '12 DUPLICATE_LABEL labels.emotion[2]',
      '13 NO_LABELS labels',
      '14 UNKNOWN_FIELD label',
      '14 NO_LABELS labels',
      '15 WRONG_TYPE id',
      '16 WRONG_TYPE text',
      '17 WRONG_TYPE labels',
      '18 WRONG_LABEL_TYPE labels.emotion[0]',
      '18 WRONG_LABEL_TYPE labels.topic',
      '19 UNKNOWN_LABEL labels.emotion[0]',
      '20 WRONG_TYPE lang',
      '21 WRONG_TYPE lang',
    ]);
    expect(issues.every((i) => i.file === path)).toBe(true);
    const text = issues.map(renderIssue).map((line) => line.replace(path, 'bad.jsonl'));
    expect(text).toEqual([
      'bad.jsonl:2: invalid JSON: Expected double-quoted property name at column 64 (expected one JSON object per line; received {"text": "x", "lang": "en", "labels": {"sentiment": "positive",}})',
      'bad.jsonl:3: a row must be a JSON object (expected {"text": …, "lang": …, "labels": {…}}; received [1,2])',
      'bad.jsonl:4: text: the row has no text (expected a non-empty string; received nothing)',
      'bad.jsonl:5: text: the text is empty (expected a non-empty string; received "   ")',
      'bad.jsonl:6: lang: the row has no language (expected a language code such as "en"; received nothing). Add one, or set a default language (defaultLang, --lang)',
      'bad.jsonl:7: id: duplicate id, first used at line 1 (expected an id no other row has; received "a")',
      'bad.jsonl:8: labels.sentimnt: unknown task (expected one of "sentiment", "topic", "emotion"; received "sentimnt"). Did you mean "sentiment"?',
      'bad.jsonl:9: labels.sentiment: unknown label for task sentiment (expected one of "negative", "neutral", "positive"; received "postive"). Did you mean "positive"?',
      'bad.jsonl:10: labels.emotion: wrong label type for multilabel task emotion (expected an array of labels; received string "joy"). Write ["joy"]; [] means none of the labels',
      'bad.jsonl:11: labels.sentiment: wrong label type for multiclass task sentiment (expected one label (a string); received array ["positive"]). Write "positive" without brackets: a multiclass task takes exactly one label',
      'bad.jsonl:12: labels.emotion[2]: the label is listed twice (expected each label at most once; received "joy")',
      'bad.jsonl:13: labels: the row is labeled for no task (expected labels for at least one of sentiment, topic, emotion; received {}). Label it, remove it, or allow unlabeled rows (allowUnlabeled, --allow-unlabeled)',
      'bad.jsonl:14: label: unknown field (expected id, text, lang or labels; received "label"). Did you mean "labels"?',
      'bad.jsonl:14: labels: the row is labeled for no task (expected labels for at least one of sentiment, topic, emotion; received nothing). Label it, remove it, or allow unlabeled rows (allowUnlabeled, --allow-unlabeled)',
      'bad.jsonl:15: id: an id must be a non-empty string (expected a non-empty string; received 5)',
      'bad.jsonl:16: text: the text must be a string (expected a non-empty string; received number)',
      'bad.jsonl:17: labels: labels must be an object of task → label (expected object; received string). Write {"task": "label"} for a multiclass task, {"task": ["label", …]} for a multilabel one',
      'bad.jsonl:18: labels.emotion[0]: wrong label type for multilabel task emotion (expected a label (a string); received number 1)',
      'bad.jsonl:18: labels.topic: wrong label type for multiclass task topic (expected one label (a string); received null null). A multiclass task takes exactly one label',
      'bad.jsonl:19: labels.emotion[0]: unknown label for task emotion (expected one of "anger", "joy", "trust"; received "Joy"). Did you mean "joy"?',
      'bad.jsonl:20: lang: the language must be a string (expected a language code such as "en"; received null)',
      'bad.jsonl:21: lang: the language code must not contain whitespace (expected a language code such as "en"; received "en US")',
    ]);
  });

  it('throws one EMPTY_FILE issue for a file with no rows', async () => {
    for (const content of ['', '\n\n  \n']) {
      const issues = await issuesOf(loadDataset(file('empty.jsonl', content), { schema }));
      expect(brief(issues)).toEqual(['- EMPTY_FILE -']);
    }
  });

  it('lists the first 50 issues in the message and keeps them all on the error', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, text: 't', lang: 'en', labels: { sentiment: `meh${i}` } }));
    const error = await loadDataset(jsonl('many.jsonl', rows), { schema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const { issues, message } = error as DataError;
    expect(issues).toHaveLength(60);
    expect(issues[59]?.line).toBe(60);
    const lines = message.split('\n');
    expect(lines[0]).toMatch(/^60 problems in .*many\.jsonl \(60 UNKNOWN_LABEL\):$/);
    expect(lines).toHaveLength(52); // summary, 50 issues, "and 10 more"
    expect(lines[50]).toMatch(/many\.jsonl:50: labels\.sentiment: unknown label/);
    expect(lines[51]).toBe('  … and 10 more');
  });

  it('collapses issues that differ only in their line into one line with the count and first lines; the error keeps each', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, text: 't', lang: 'en' }));
    const path = jsonl('unlabeled.jsonl', [...rows, { id: 'x', text: '', lang: 'en', labels: { sentiment: 'positive' } }]);
    const error = await loadDataset(path, { schema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    const e = error as DataError;
    expect(e.code).toBe('DATA_INVALID');
    expect(e.issues).toHaveLength(51);
    expect((e.toJSON().details?.['issues'] as unknown[]).length).toBe(51);
    expect(e.message.replaceAll(path, 'u.jsonl').split('\n')).toEqual([
      '51 problems in u.jsonl (50 NO_LABELS, 1 EMPTY_TEXT):',
      '  u.jsonl: 50 rows (lines 1, 2, 3, 4, 5, …): labels: the row is labeled for no task (expected labels for at least one of sentiment, topic, emotion; received nothing). ' +
        'Label it, remove it, or allow unlabeled rows (allowUnlabeled, --allow-unlabeled)',
      '  u.jsonl:51: text: the text is empty (expected a non-empty string; received "")',
    ]);
  });

  it('reports invalid UTF-8 as an issue naming the line and byte instead of reading U+FFFD', async () => {
    const row = (text: Buffer) => Buffer.concat([Buffer.from('{"text": "'), text, Buffer.from('", "lang": "fr", "labels": {"sentiment": "positive"}}\n')]);
    const path = file('latin1.jsonl', '');
    // A Latin-1 é (the single byte 0xE9) between two UTF-8 rows; a genuine U+FFFD in a row is fine.
    writeFileSync(path, Buffer.concat([row(Buffer.from('café \uFFFD')), row(Buffer.from([0x63, 0x61, 0x66, 0xe9])), row(Buffer.from('café'))]));
    const issues = await issuesOf(loadDataset(path, { schema }));
    expect(issues.map(renderIssue).map((l) => l.replace(path, 'latin1.jsonl'))).toEqual([
      'latin1.jsonl:2: invalid UTF-8 at byte 14 of the line (expected UTF-8 text; received bytes 0xe9 0x22 0x2c 0x20). Convert the file to UTF-8 (for example iconv -f latin1 -t utf-8 file > file.utf8)',
    ]);
    expect(issues[0]?.code).toBe('INVALID_UTF8');
  });

  it('escapes control bytes of a bad row in the rendered issues', async () => {
    const path = jsonl('control.jsonl', [{ text: 'x', lang: 'en', labels: { sentiment: 'pos\u001b[2J\u0007' } }]);
    const error = (await loadDataset(path, { schema }).catch((e: unknown) => e)) as DataError;
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(error.message).toContain('received "pos\\u001b[2J\\u0007"');
    expect(renderIssue(error.issues[0] as never)).not.toContain('\u001b');
  });

  it('accepts unlabeled rows, a default language and extra fields when asked', async () => {
    const path = jsonl('options.jsonl', [
      { text: 'no labels here', lang: 'fi' },
      { text: 'kein lang', labels: { sentiment: 'neutral' }, meta: { source: 'x' } },
    ]);
    const strict = await issuesOf(loadDataset(path, { schema }));
    expect(brief(strict)).toEqual(['1 NO_LABELS labels', '2 UNKNOWN_FIELD meta', '2 MISSING_LANG lang']);
    const d = await loadDataset(path, { schema, allowUnlabeled: true, defaultLang: 'de', ignoreExtraFields: true });
    expect(d.examples.map((e) => [e.lang, labelsOf(e)])).toEqual([
      ['fi', {}],
      ['de', { sentiment: 1 }],
    ]);
  });

  it('infers a schema when none is given: strings are multiclass, arrays multilabel, labels sorted', async () => {
    const path = jsonl('infer.jsonl', [
      { text: 'a', lang: 'en', labels: { stance: 'pro' } },
      { text: 'b', lang: 'en', labels: { aspects: ['price', 'delivery'] } },
      { text: 'c', lang: 'de', labels: { stance: 'con', aspects: [] } },
    ]);
    const d = await loadDataset(path);
    expect(d.schema.origin).toEqual({ kind: 'inferred', file: path });
    expect(d.schema.tasks.map((t) => [t.name, t.type, t.labels])).toEqual([
      ['stance', 'multiclass', ['con', 'pro']],
      ['aspects', 'multilabel', ['delivery', 'price']],
    ]);
    expect(d.examples.map(labelsOf)).toEqual([{ stance: 1 }, { aspects: [0, 1] }, { stance: 0, aspects: [] }]);
  });

  it('reports the minority type of an inferred task at its lines', async () => {
    const path = jsonl('mixed.jsonl', [
      { text: 'a', lang: 'en', labels: { aspects: ['price'] } },
      { text: 'b', lang: 'en', labels: { aspects: 'price' } },
      { text: 'c', lang: 'en', labels: { aspects: ['delivery'] } },
    ]);
    const issues = await issuesOf(loadDataset(path));
    expect(brief(issues)).toEqual(['2 WRONG_LABEL_TYPE labels.aspects']);
  });

  it('reports unreadable files and unknown extensions', async () => {
    expect(brief(await issuesOf(loadDataset('no/such/file.jsonl', { schema })))).toEqual(['- READ_FAILED -']);
    const unknown = await issuesOf(loadDataset(file('data.txt', 'x'), { schema }));
    expect(unknown.map(renderIssue)[0]).toMatch(/data\.txt: cannot tell the format from the file name \(expected a \.jsonl, \.csv or \.tsv file, or a format \(format, --format\); received "\.txt"\)$/);
    const mapping = await issuesOf(loadDataset(file('m.jsonl', '{}'), { schema, csv: { textColumn: 'body' } }));
    expect(brief(mapping)).toEqual(['- BAD_OPTION csv']);
  });
});

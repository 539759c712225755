// Streaming readers of rows to score: line numbers, the position after each row (where a resumed run starts),
// and the problems that keep a row from being scored, each with its file:line and field.
import { describe, expect, it } from 'vitest';
import { renderIssue } from '../../src/data/issues.ts';
import { openCsvRecords } from '../../src/predict/csv-input.ts';
import type { InputFields, InputRecord } from '../../src/predict/input.ts';
import { readJsonlRecords } from '../../src/predict/jsonl-input.ts';
import { FILE_START, readLines } from '../../src/predict/lines.ts';
import { tempDir, writeFile } from './fixtures.ts';

const FIELDS: InputFields = { text: 'text', id: undefined, keep: undefined };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A record as tests compare it: the row's line, id, text and kept fields, or its problem rendered. */
function summary(r: InputRecord): unknown {
  return r.kind === 'row' ? { line: r.line, id: r.id, text: r.text, kept: r.kept } : { line: r.line, problem: renderIssue(r.issue) };
}

describe('readLines', () => {
  it('numbers lines and resumes from the position after any of them', async () => {
    const file = writeFile(tempDir(), 'a.jsonl', '\uFEFFfirst\r\nsecond\n\nvierte Zeile ü\nlast, no break');
    const all = await collect(readLines(file));
    expect(all.map((l) => [l.line, l.text])).toEqual([[1, 'first'], [2, 'second'], [3, ''], [4, 'vierte Zeile ü'], [5, 'last, no break']]);
    expect(all.map((l) => l.next)).toEqual([{ offset: 10, line: 2 }, { offset: 17, line: 3 }, { offset: 18, line: 4 }, { offset: 34, line: 5 }, { offset: 48, line: 5 }]);
    for (const [i, l] of all.entries()) {
      expect((await collect(readLines(file, l.next))).map((x) => [x.line, x.text])).toEqual(all.slice(i + 1).map((x) => [x.line, x.text]));
    }
  });

  it('decodes a character cut by a read-chunk boundary whole', async () => {
    const pad = 'x'.repeat((1 << 20) - 1); // the 2-byte "é" straddles the first 1 MiB chunk's end
    const file = writeFile(tempDir(), 'big.jsonl', `${pad}é\nnext\n`);
    const lines = await collect(readLines(file));
    expect(lines.map((l) => l.text.slice(-2))).toEqual(['xé', 'xt']);
  });
});

describe('JSONL rows', () => {
  it('reads ids, falls back to the line number, keeps lang, and names every problem by file:line and field', async () => {
    const file = writeFile(tempDir(), 'in.jsonl', [
      '{"id": "a", "text": "hello", "lang": "en", "other": 1}',
      '{"text": "no id", "lang": "de"}',
      '',
      '{"id": 7, "text": "numeric id"}',
      '{"id": "b", "text": "unterminated',
      '["an", "array"]',
      '{"id": "c", "body": "no text"}',
      '{"id": "d", "text": 42}',
      '{"id": "e", "text": "  "}',
      '{"id": {"x": 1}, "text": "odd id"}',
    ].join('\n'));
    const records = await collect(readJsonlRecords(file, FIELDS, FILE_START));
    expect(records.map(summary)).toEqual([
      { line: 1, id: 'a', text: 'hello', kept: { lang: 'en' } },
      { line: 2, id: 2, text: 'no id', kept: { lang: 'de' } },
      { line: 4, id: 7, text: 'numeric id', kept: {} },
      { line: 5, problem: expect.stringMatching(new RegExp(`^${file}:5: invalid JSON: .*\\(expected one JSON object per line; received`)) },
      { line: 6, problem: `${file}:6: a row must be a JSON object (expected {"text": …}; received ["an","array"])` },
      { line: 7, problem: `${file}:7: text: the row has no text (expected a non-empty string; received nothing). Name the text field with --text-field (JSONL) or --text-column (CSV/TSV); it is "text" now` },
      { line: 8, problem: `${file}:8: text: the text must be a string (expected a non-empty string; received number)` },
      { line: 9, problem: `${file}:9: text: the text is empty (expected a non-empty string; received "  ")` },
      { line: 10, problem: `${file}:10: id: an id must be a string or a number (expected a string or a number; received {"x":1})` },
    ]);
    expect(records[3]?.kind === 'error' && records[3].raw).toBe('{"id": "b", "text": "unterminated');
  });

  it('reads the text, id and kept fields the options name', async () => {
    const file = writeFile(tempDir(), 'in.jsonl', '{"key": "k1", "body": "hi", "lang": "en", "src": "web"}\n');
    const [row] = await collect(readJsonlRecords(file, { text: 'body', id: 'key', keep: ['src', 'missing'] }, FILE_START));
    expect(row && summary(row)).toEqual({ line: 1, id: 'k1', text: 'hi', kept: { src: 'web' } });
  });
});

describe('CSV rows', () => {
  const csv = [
    'id,text,lang,extra',
    'a,plain,en,x',
    '"b","two\r\nlines",de,y',
    '',
    ',no id,en,z',
    'c,"quoted ""word""\nand a second line",fr,w',
    'd,too,many,fields,here',
    'e,,en,x',
    'f,last,en,x',
  ].join('\r\n');

  it('numbers records by the line they start on, across quoted line breaks and blank lines', async () => {
    const file = writeFile(tempDir(), 'in.csv', csv);
    const { records } = await openCsvRecords(file, ',', FIELDS, FILE_START);
    expect((await collect(records)).map(summary)).toEqual([
      { line: 2, id: 'a', text: 'plain', kept: { lang: 'en' } },
      { line: 3, id: 'b', text: 'two\r\nlines', kept: { lang: 'de' } },
      { line: 6, id: 6, text: 'no id', kept: { lang: 'en' } },
      { line: 7, id: 'c', text: 'quoted "word"\nand a second line', kept: { lang: 'fr' } },
      { line: 9, problem: `${file}:9: wrong number of fields (expected 4 fields, as in the header; received 5). Quote fields that contain the delimiter or line breaks` },
      { line: 10, problem: `${file}:10: column "text": the text is empty (expected a non-empty string; received "")` },
      { line: 11, id: 'f', text: 'last', kept: { lang: 'en' } },
    ]);
  });

  it('resumes from the position after any record with the same records and lines', async () => {
    const file = writeFile(tempDir(), 'in.csv', csv);
    const all = await collect((await openCsvRecords(file, ',', FIELDS, FILE_START)).records);
    for (const [i, r] of all.entries()) {
      const rest = await collect((await openCsvRecords(file, ',', FIELDS, r.next)).records);
      expect(rest.map(summary)).toEqual(all.slice(i + 1).map(summary));
    }
  });

  it('reads TSV through the named columns', async () => {
    const file = writeFile(tempDir(), 'in.tsv', 'key\tcomment\tsrc\nk1\the said "hi"\tweb\n');
    const { records } = await openCsvRecords(file, '\t', { text: 'comment', id: 'key', keep: ['src'] }, FILE_START);
    expect((await collect(records)).map(summary)).toEqual([{ line: 2, id: 'k1', text: 'he said "hi"', kept: { src: 'web' } }]);
  });

  it('names a missing column before reading any row', async () => {
    const file = writeFile(tempDir(), 'in.csv', 'id,txt\na,hello\n');
    await expect(openCsvRecords(file, ',', FIELDS, FILE_START)).rejects.toThrow(
      `${file}:1: --text-column: no column "text" (expected a column named "text"; received columns "id", "txt"). Did you mean "txt"?`,
    );
    await expect(openCsvRecords(file, ',', { ...FIELDS, text: 'txt', keep: ['lang'] }, FILE_START)).rejects.toThrow(`${file}:1: --keep: no column "lang"`);
  });

  it('reports a quoted field that is never closed at the line it opens', async () => {
    const file = writeFile(tempDir(), 'in.csv', 'id,text\na,fine\nb,"never closed\nc,more\n');
    const records = await collect((await openCsvRecords(file, ',', FIELDS, FILE_START)).records);
    expect(records.map(summary)).toEqual([
      { line: 2, id: 'a', text: 'fine', kept: {} },
      { line: 3, problem: expect.stringContaining(`${file}:3: a quoted field is never closed`) },
    ]);
  });
});

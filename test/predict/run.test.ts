// predictFile with a stub classifier: rows in order with ids, CSV in and out, task subsets, unscorable rows
// (stop with file:line, or the errors file), and resuming: a partial chunk dropped, changed input or options refused.
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/issues.ts';
import { UnknownTaskError } from '../../src/infer/types.ts';
import { XlmtError } from '../../src/errors/index.ts';
import { errorsPath, progressPath, readState } from '../../src/predict/progress-file.ts';
import { predictFile, type PredictJob } from '../../src/predict/run.ts';
import { jsonlRows, StubClassifier, tempDir, writeFile } from './fixtures.ts';

const lines = (file: string): unknown[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

function job(input: string, output: string, extra: Partial<PredictJob> = {}): PredictJob {
  return { model: 'stub', input, output, chunkSize: 4, ...extra };
}

describe('predictFile', () => {
  it('writes one JSON line per row, in input order, with its id, kept fields, every task and truncation', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', [
      '{"id": "a", "text": "good price", "lang": "en", "source": "web"}',
      '{"text": "bad staff and price", "lang": "de"}',
      '',
      '{"id": 3, "text": "one two three four five six seven eight nine good"}',
    ].join('\n'));
    const out = join(dir, 'out.jsonl');
    const stub = new StubClassifier();
    const summary = await predictFile(stub, job(input, out));
    expect(lines(out)).toEqual([
      { id: 'a', line: 1, lang: 'en', tasks: { sentiment: { label: 'positive', scores: { negative: 0.25, positive: 0.75 } }, topics: { labels: ['price'], scores: { price: 0.9, staff: 0.3 } } }, truncated: false },
      { id: 2, line: 2, lang: 'de', tasks: { sentiment: { label: 'negative', scores: { negative: 0.875, positive: 0.125 } }, topics: { labels: ['price', 'staff'], scores: { price: 0.9, staff: 0.6 } } }, truncated: false },
      { id: 3, line: 4, tasks: { sentiment: { label: 'positive', scores: { negative: 0.25, positive: 0.75 } }, topics: { labels: [], scores: { price: 0.1, staff: 0.3 } } }, truncated: true },
    ]);
    expect(summary).toMatchObject({ rowsRead: 3, rowsWritten: 3, rowsErrored: 0, errors: null, resumedRows: 0, scored: 3, output: out });
    expect(existsSync(progressPath(out))).toBe(false);
    expect(existsSync(errorsPath(out))).toBe(false);
  });

  it('scores a chunk at a time and keeps the order over many chunks', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', jsonlRows(103));
    const out = join(dir, 'out.jsonl');
    const stub = new StubClassifier();
    const chunks: number[] = [];
    await predictFile(stub, job(input, out, { chunkSize: 10 }), { onChunk: (p) => chunks.push(p.rowsRead) });
    expect(stub.calls).toEqual([...Array.from({ length: 10 }, () => 10), 3]);
    expect(chunks).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 103]);
    expect(lines(out).map((r) => (r as { id: string }).id)).toEqual(Array.from({ length: 103 }, (_, i) => `r${i}`));
  });

  it('reads CSV through the named columns and writes CSV with a column per task and label score', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.csv', 'key,comment,lang\nk1,"good, price",en\n,"staff ""said"" bad",de\nk3,plain,\n');
    const out = join(dir, 'out.csv');
    await predictFile(new StubClassifier(), job(input, out, { textField: 'comment', idField: 'key' }));
    expect(readFileSync(out, 'utf8')).toBe([
      'id,line,lang,sentiment,sentiment.negative,sentiment.positive,topics,topics.price,topics.staff,truncated',
      'k1,2,en,positive,0.25,0.75,price,0.9,0.3,false',
      '3,3,de,negative,0.875,0.125,staff,0.1,0.6,false',
      'k3,4,,negative,0.875,0.125,[],0.1,0.3,false',
      '',
    ].join('\n'));
  });

  it('answers only the tasks asked for, in their order', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.tsv', 'id\ttext\nx\tgood staff\n');
    const out = join(dir, 'out.jsonl');
    await predictFile(new StubClassifier(), job(input, out, { tasks: ['topics'], keep: [] }));
    expect(lines(out)).toEqual([{ id: 'x', line: 2, tasks: { topics: { labels: ['staff'], scores: { price: 0.1, staff: 0.6 } } }, truncated: false }]);
    await expect(predictFile(new StubClassifier(), job(input, join(dir, 'other.jsonl'), { tasks: ['topic'] }))).rejects.toThrow(UnknownTaskError);
  });

  it('stops at the first unscorable row, naming file:line and field, with the way to skip such rows', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', `${jsonlRows(5)}{"id": "bad", "txt": "typo"}\n${jsonlRows(2)}`);
    const out = join(dir, 'out.jsonl');
    const error = await predictFile(new StubClassifier(), job(input, out)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe([
      `1 problem in ${input} (1 MISSING_TEXT):`,
      `  ${input}:6: text: the row has no text (expected a non-empty string; received nothing). Name the text field with --text-field (JSONL) or --text-column (CSV/TSV); it is "text" now; to write unscorable rows to ${errorsPath(out)} and go on, pass --on-error skip`,
    ].join('\n'));
  });

  it('with --on-error skip, writes each unscorable row to the errors file with its line and reason, and counts it', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', `${jsonlRows(3)}not json\n{"id": "e", "text": 5}\n${jsonlRows(2)}`);
    const out = join(dir, 'out.jsonl');
    const summary = await predictFile(new StubClassifier(), job(input, out, { onError: 'skip' }));
    expect(summary).toMatchObject({ rowsRead: 7, rowsWritten: 5, rowsErrored: 2, errors: errorsPath(out) });
    expect(lines(out).map((r) => (r as { line: number }).line)).toEqual([1, 2, 3, 6, 7]);
    expect(lines(errorsPath(out))).toEqual([
      { line: 4, code: 'BAD_JSON', field: null, reason: expect.stringMatching(new RegExp(`^${input}:4: invalid JSON`)), raw: 'not json' },
      { line: 5, code: 'WRONG_TYPE', field: 'text', reason: `${input}:5: text: the text must be a string (expected a non-empty string; received number)`, raw: '{"id": "e", "text": 5}' },
    ]);
  });

  it('resumes after a crash, dropping a partial chunk written after the last progress record', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', jsonlRows(30).replace('"id":"r13","text":', '"id":"r13","txt":'));
    const reference = join(dir, 'reference.jsonl');
    await predictFile(new StubClassifier(), job(input, reference, { onError: 'skip' }));

    const out = join(dir, 'out.jsonl');
    await expect(predictFile(new StubClassifier(5), job(input, out, { onError: 'skip' }))).rejects.toThrow('simulated crash');
    const state = await readState(out);
    expect(state).toMatchObject({ rowsRead: 16, rowsWritten: 15, rowsErrored: 1 });
    expect(statSync(out).size).toBe(state?.outputBytes);
    // What a kill between writing a chunk and recording it leaves: bytes past the recorded lengths.
    appendFileSync(out, '{"id":"r16","line":17,"tasks":{"sentim');
    appendFileSync(errorsPath(out), '{"line":99,"code":"BAD_JSON"}\n');

    const stub = new StubClassifier();
    const summary = await predictFile(stub, job(input, out, { onError: 'skip' }));
    expect(summary).toMatchObject({ rowsRead: 30, rowsWritten: 29, rowsErrored: 1, resumedRows: 16, scored: 14 });
    expect(stub.calls).toEqual([4, 4, 4, 2]);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(reference, 'utf8'));
    expect(readFileSync(errorsPath(out), 'utf8')).toBe(readFileSync(errorsPath(reference), 'utf8'));
    expect(existsSync(progressPath(out))).toBe(false);
  });

  it('resumes a CSV run with the header written once', async () => {
    const dir = tempDir();
    const body = Array.from({ length: 10 }, (_, i) => `r${i},"text ${i} ${i % 2 ? 'good' : 'bad'}\nsecond line",en`);
    const input = writeFile(dir, 'in.csv', `id,text,lang\r\n${body.join('\r\n')}\r\n`);
    const reference = join(dir, 'reference.csv');
    await predictFile(new StubClassifier(), job(input, reference));
    const out = join(dir, 'out.csv');
    await expect(predictFile(new StubClassifier(2), job(input, out))).rejects.toThrow('simulated crash');
    await predictFile(new StubClassifier(), job(input, out));
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(reference, 'utf8'));
  });

  it('refuses to resume with a changed input or other options, and starts over with restart', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', jsonlRows(20));
    const out = join(dir, 'out.jsonl');
    await expect(predictFile(new StubClassifier(2), job(input, out))).rejects.toThrow('simulated crash');

    await expect(predictFile(new StubClassifier(), job(input, out, { tasks: ['sentiment'] }))).rejects.toThrow(
      `${progressPath(out)}: the options differ from the interrupted run's: --tasks was "sentiment,topics", now "sentiment". Rerun with the same input and options to continue, or pass --restart to start over`,
    );
    const other = writeFile(dir, 'other.jsonl', jsonlRows(20));
    await expect(predictFile(new StubClassifier(), job(other, out))).rejects.toThrow(/the interrupted run read another input file/);
    writeFileSync(input, jsonlRows(21));
    const changed = await predictFile(new StubClassifier(), job(input, out)).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(XlmtError);
    expect(changed).toMatchObject({ code: 'INPUT_CHANGED', where: { file: progressPath(out) } });
    expect((changed as Error).message).toMatch(/changed since the interrupted run \(size \d+ → \d+ bytes/);

    const summary = await predictFile(new StubClassifier(), job(input, out, { restart: true }));
    expect(summary).toMatchObject({ rowsRead: 21, resumedRows: 0 });
    expect(lines(out)).toHaveLength(21);
  });

  it('goes on with --on-error skip after a run stopped at a bad row', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.jsonl', jsonlRows(10).replace('"id":"r6","text":', '"id":"r6","txt":'));
    const out = join(dir, 'out.jsonl');
    await expect(predictFile(new StubClassifier(), job(input, out))).rejects.toThrow(`${input}:7: text: the row has no text`);
    const summary = await predictFile(new StubClassifier(), job(input, out, { onError: 'skip' }));
    expect(summary).toMatchObject({ resumedRows: 4, rowsRead: 10, rowsWritten: 9, rowsErrored: 1 });
    expect(lines(out).map((r) => (r as { id: string }).id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r7', 'r8', 'r9']);
  });

  it('rejects options that could not work, before touching the output', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'in.txt', 'x');
    await expect(predictFile(new StubClassifier(), job(input, join(dir, 'o.jsonl')))).rejects.toThrow(`${input}: cannot tell the format from the file name (expected a .jsonl, .csv or .tsv file). Name the format with --format jsonl|csv|tsv`);
    await expect(predictFile(new StubClassifier(), job(input, input, { format: 'jsonl' }))).rejects.toThrow(`--out: ${input} is ${input}, which --in reads`);
    await expect(predictFile(new StubClassifier(), job(input, join(dir, 'o.jsonl'), { format: 'jsonl', keep: ['id'] }))).rejects.toThrow('--keep: kept fields would shadow output fields');
    await expect(predictFile(new StubClassifier(), job(join(dir, 'missing.jsonl'), join(dir, 'o.jsonl')))).rejects.toThrow(`${join(dir, 'missing.jsonl')}: cannot read the input: ENOENT`);
    expect(existsSync(join(dir, 'o.jsonl'))).toBe(false);
  });
});

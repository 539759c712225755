// The unlabeled corpus: JSONL and plain text, blank lines counted, file:line errors, and resumable epoch order.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, renderIssue, type DataIssue } from '../../src/data/index.ts';
import { XlmtError } from '../../src/errors/index.ts';
import {
  batchesPerEpoch,
  corpusBatches,
  cursorAt,
  epochOrder,
  groupedEpochOrder,
  PretrainError,
  readUnlabeledCorpus,
  type CorpusBatch,
  type UnlabeledCorpus,
} from '../../src/pretrain/index.ts';
import { UNLABELED } from '../tokenize/fixtures.ts';

function writeTemp(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'xlmt-pretrain-test-')), name);
  writeFileSync(path, content);
  return path;
}

async function rejection<E extends XlmtError>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

/** The one issue of a corpus line that failed, rendered. */
async function lineIssue(promise: Promise<unknown>): Promise<string> {
  const error = await rejection(promise, DataError);
  expect(error.issues).toHaveLength(1);
  return renderIssue(error.issues[0] as DataIssue);
}

describe('readUnlabeledCorpus', () => {
  it('reads JSONL texts with their languages, skipping and counting blank texts and lines', async () => {
    const file = writeTemp(
      'u.jsonl',
      '\uFEFF{"text": "Hola mundo", "lang": "es"}\n\n{"text": "   ", "lang": "en"}\n{"text": "no language"}\n{"text": "", "lang": "fi"}\n{"text": "Hei", "lang": "fi", "extra": 1}\n',
    );
    const corpus = await readUnlabeledCorpus([file]);
    expect(corpus).toEqual({ texts: ['Hola mundo', 'no language', 'Hei'], langs: ['es', null, 'fi'], blank: 3 });
  });

  it('reads plain text one line a text, across files in order, with other field names', async () => {
    const plain = writeTemp('u.txt', 'first line\r\n\nsecond line\n  \n');
    const jsonl = writeTemp('v.ndjson', '{"body": "third", "language": "de"}\n');
    const corpus = await readUnlabeledCorpus([plain, jsonl], { textField: 'body', langField: 'language' });
    expect(corpus).toEqual({ texts: ['first line', 'second line', 'third'], langs: [null, null, 'de'], blank: 2 });
  });

  it('names file:line for invalid JSON, a missing or non-string text field, and a non-string language', async () => {
    const bad = (name: string, line: string) => writeTemp(name, `{"text": "fine"}\n\n${line}\n`);
    const json = bad('a.jsonl', '{"text": "cut');
    const error = await rejection(readUnlabeledCorpus([json]), DataError);
    expect(error.code).toBe('DATA_INVALID');
    expect(error.issues.map((i) => [i.code, i.file, i.line])).toEqual([['BAD_JSON', json, 3]]);
    expect(renderIssue(error.issues[0] as DataIssue)).toMatch(new RegExp(`^${json}:3: invalid JSON: .+ \\(expected one JSON object per line; received "\\{\\\\"text\\\\": \\\\"cut"\\)$`));

    const missing = bad('b.jsonl', '{"txt": "typo", "lang": "en"}');
    expect(await lineIssue(readUnlabeledCorpus([missing]))).toBe(
      `${missing}:3: text: the line has no text (expected a string field "text"; received fields txt, lang). Choose the text field with --text-field / textField`,
    );
    const number = bad('c.jsonl', '{"text": 42}');
    expect(await lineIssue(readUnlabeledCorpus([number]))).toBe(
      `${number}:3: text: the text must be a string (expected a string; received 42). Choose the text field with --text-field / textField`,
    );
    const array = bad('d.jsonl', '["text"]');
    expect(await lineIssue(readUnlabeledCorpus([array]))).toBe(`${array}:3: a line must be a JSON object (expected an object with a "text" string; received ["text"])`);
    const lang = bad('e.jsonl', '{"text": "x", "lang": 7}');
    expect(await lineIssue(readUnlabeledCorpus([lang]))).toMatch(new RegExp(`^${lang}:3: lang: `));
    const latin1 = writeTemp('latin1.txt', '');
    writeFileSync(latin1, Buffer.concat([Buffer.from('fine\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(await lineIssue(readUnlabeledCorpus([latin1]))).toMatch(new RegExp(`^${latin1}:2: invalid UTF-8 at byte 4 of the line`));
  });

  it('fails on a missing file and on a corpus with only blank texts', async () => {
    const missing = join(tmpdir(), 'xlmt-no-such-corpus.jsonl');
    const notFound = await rejection(readUnlabeledCorpus([missing]), PretrainError);
    expect([notFound.code, notFound.message]).toEqual(['FILE_NOT_FOUND', `${missing}: cannot read the corpus file: no such file or directory`]);
    const blank = writeTemp('blank.txt', '\n  \n\t\n');
    const empty = await rejection(readUnlabeledCorpus([blank]), PretrainError);
    expect([empty.code, empty.message]).toEqual(['CORPUS_EMPTY', `${blank}: no non-blank text to pretrain on (3 blank lines)`]);
  });
});

describe('epoch order and batches', () => {
  const corpus: UnlabeledCorpus = {
    texts: Array.from({ length: 10 }, (_, i) => `text ${i}`),
    langs: Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'en' : 'fi')),
    blank: 0,
  };
  const take = (n: number, batches: Iterable<CorpusBatch>): CorpusBatch[] => {
    const out: CorpusBatch[] = [];
    for (const b of batches) {
      out.push(b);
      if (out.length === n) break;
    }
    return out;
  };

  it('is a permutation fixed by (seed, epoch), different for another epoch or seed', () => {
    const order = epochOrder(1000, 3, 0);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochOrder(1000, 3, 0)).toEqual(order);
    expect(epochOrder(1000, 3, 1)).not.toEqual(order);
    expect(epochOrder(1000, 4, 0)).not.toEqual(order);
    expect(Array.from(order.slice(0, 20))).not.toEqual(Array.from({ length: 20 }, (_, i) => i)); // shuffled
  });

  it('serves each text once per epoch in batches of batchSize, the last one smaller', () => {
    const batches = [...corpusBatches(corpus, { batchSize: 4, seed: 1, epochs: 2 })];
    expect(batches.map((b) => [b.epoch, b.batch, b.texts.length])).toEqual([
      [0, 0, 4], [0, 1, 4], [0, 2, 2],
      [1, 0, 4], [1, 1, 4], [1, 2, 2],
    ]);
    const epoch0 = batches.slice(0, 3).flatMap((b) => Array.from(b.indices));
    expect(epoch0).toEqual(Array.from(epochOrder(10, 1, 0)));
    const first = batches[0] as CorpusBatch;
    expect(first.texts).toEqual(Array.from(first.indices, (i) => `text ${i}`));
    expect(first.langs).toEqual(Array.from(first.indices, (i) => (i % 2 === 0 ? 'en' : 'fi')));
    expect(batchesPerEpoch(10, { batchSize: 4, seed: 1 })).toBe(3);
    expect(batchesPerEpoch(10, { batchSize: 4, seed: 1, dropLast: true })).toBe(2);
    const dropped = [...corpusBatches(corpus, { batchSize: 4, seed: 1, epochs: 1, dropLast: true })];
    expect(dropped.map((b) => b.texts.length)).toEqual([4, 4]);
  });

  it('resumes at any (epoch, batch) with the batches an uninterrupted run would have served', () => {
    const options = { batchSize: 3, seed: 9 };
    const full = take(11, corpusBatches(corpus, options)); // 4 batches an epoch, without end
    const from = cursorAt(6, corpus.texts.length, options);
    expect(from).toEqual({ epoch: 1, batch: 2 });
    expect(take(5, corpusBatches(corpus, { ...options, from }))).toEqual(full.slice(6));
  });

  it('rejects a bad batch size, a cursor outside the epoch, and an epoch with no full batch', () => {
    const first = (f: () => Iterator<CorpusBatch>) => () => f().next();
    expect(first(() => corpusBatches(corpus, { batchSize: 0, seed: 1 }))).toThrow(/^batchSize: not a batch size \(expected a positive integer; received 0\)$/);
    expect(first(() => corpusBatches(corpus, { batchSize: 4, seed: 1, from: { epoch: 0, batch: 3 } }))).toThrow(
      'corpusBatches: from: no such batch (expected epoch ≥ 0 and batch in [0, 3); received epoch 0, batch 3)',
    );
    expect(first(() => corpusBatches(corpus, { batchSize: 11, seed: 1, dropLast: true }))).toThrow(/an epoch of 10 texts has no full batch/);
  });
});

describe('the xm-bench unlabeled corpus', () => {
  it('reads all 188,122 texts into memory, each with its language', async () => {
    const corpus = await readUnlabeledCorpus([UNLABELED]);
    expect([corpus.texts.length, corpus.blank]).toEqual([188_122, 0]);
    expect(corpus.langs.filter((l) => l === null)).toEqual([]);
    expect(new Set(corpus.langs).size).toBeGreaterThan(30);
  });
});

describe('groupedEpochOrder', () => {
  const lengths = Array.from({ length: 1000 }, (_, i) => (i * 37) % 101);
  const padded = (order: Uint32Array): number => {
    let cells = 0;
    for (let b = 0; b < order.length; b += 10) {
      const block = Array.from(order.subarray(b, b + 10), (i) => lengths[i] as number);
      cells += Math.max(...block) * block.length;
    }
    return cells;
  };

  it('is a deterministic permutation that pads far less than a random order', () => {
    const grouped = groupedEpochOrder(lengths, 3, 1, 10, 20);
    expect([...grouped].sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    expect(groupedEpochOrder(lengths, 3, 1, 10, 20)).toEqual(grouped);
    expect(groupedEpochOrder(lengths, 3, 2, 10, 20)).not.toEqual(grouped);
    expect(padded(grouped)).toBeLessThan(0.7 * padded(epochOrder(1000, 3, 1)));
  });

  it('is the plain epoch order for a window of 1', () => {
    expect(groupedEpochOrder(lengths, 3, 1, 10, 1)).toEqual(epochOrder(1000, 3, 1));
  });
});

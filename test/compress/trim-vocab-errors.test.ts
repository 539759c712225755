// Bad inputs to `xlmt trim-vocab` are refused with an error that names them, and nothing is written: an empty or
// missing corpus, an unsupported tokenizer, an --out that holds something else, a bad --min-count, and a trimmed
// model that fails its own proof.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdMap } from '../../src/compress/trim-vocab/id-map.ts';
import { BUILT_IN_SAMPLE_NAME, trimVocab } from '../../src/compress/trim-vocab/index.ts';
import { prove } from '../../src/compress/trim-vocab/prove.ts';
import { loadScorer } from '../../src/compress/trim-vocab/scorers.ts';
import { readTokenizerVocab } from '../../src/compress/trim-vocab/tokenizer-json.ts';
import { exportModel } from '../../src/export/export.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import type { CorpusLine } from '../../src/tokenize/corpus.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';
import { bpeJson, craftedExport, rowsOf } from './trim-vocab-fixtures.ts';

let data: RunFixture;
let run: string;

beforeAll(async () => {
  data = await runFixture(40, 12);
  run = await trainedRun(data);
}, 60_000);

/** Nothing at `out`, and no temporary or set-aside sibling of it. */
function nothingWritten(out: string): void {
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dirname(out)).filter((n) => n.includes('.xlmt-'))).toEqual([]);
}

const newOut = (name: string): string => join(data.dir, name);

describe('the corpus', () => {
  it('refuses a corpus file without text (blank lines only), naming it', async () => {
    const blank = join(data.dir, 'blank.txt');
    writeFileSync(blank, '\n   \n\n');
    const out = newOut('out-blank');
    await expect(trimVocab({ model: run, corpus: [data.train, blank], out })).rejects.toMatchObject({ code: 'CORPUS_EMPTY', where: { file: blank } });
    nothingWritten(out);
    const empty = join(data.dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await expect(trimVocab({ model: run, corpus: [empty], out })).rejects.toMatchObject({ code: 'CORPUS_EMPTY', where: { file: empty } });
    nothingWritten(out);
  });

  it('refuses a missing corpus file before reading anything', async () => {
    const missing = join(data.dir, 'no-such-corpus.txt');
    const out = newOut('out-missing');
    await expect(trimVocab({ model: run, corpus: [data.train, missing], out })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', where: { file: missing } });
    nothingWritten(out);
  });

  it('on the command line: exit status 3 for an empty corpus, with the file named', () => {
    const blank = join(data.dir, 'blank-cli.txt');
    writeFileSync(blank, '\n');
    const out = newOut('out-blank-cli');
    const result = runXlmt(['trim-vocab', '--model', run, '--corpus', blank, '--out', out]);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('CORPUS_EMPTY');
    expect(result.stderr).toContain(blank);
    nothingWritten(out);
  }, 30_000);
});

describe('the tokenizer', () => {
  it('refuses a tokenizer model it cannot rewrite (WordLevel), naming model.type', async () => {
    const model = join(data.dir, 'wordlevel-model');
    cpSync(join(run, 'best'), model, { recursive: true });
    const tokenizer = JSON.parse(readFileSync(join(model, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify({ ...tokenizer, model: { type: 'WordLevel', vocab: tokenizer.model.vocab, unk_token: '[UNK]' } }));
    const out = newOut('out-wordlevel');
    await expect(trimVocab({ model, corpus: [data.train], out })).rejects.toMatchObject({
      code: 'TOKENIZER_UNSUPPORTED',
      where: { file: join(model, 'tokenizer.json'), field: 'model.type' },
      received: '"WordLevel"',
    });
    nothingWritten(out);
  });

  it('refuses a BPE model with dropout (it tokenizes at random)', () => {
    const json = JSON.parse(bpeJson(['hello world'], { style: 'byte-level', merges: 5 })) as { model: Record<string, unknown> };
    const withDropout = JSON.stringify({ ...json, model: { ...json.model, dropout: 0.1 } });
    expect(() => readTokenizerVocab(TextTokenizer.fromJSON(withDropout, 'bpe.json'))).toThrow(expect.objectContaining({ code: 'TOKENIZER_UNSUPPORTED', where: { file: 'bpe.json', field: 'model.dropout' } }));
  });
});

describe('--out', () => {
  it('refuses a folder of other files, another command\'s output and the model itself, touching nothing', async () => {
    const notes = newOut('notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(trimVocab({ model: run, corpus: [data.train], out: notes })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY', where: { field: '--out' } });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
    const exported = newOut('an-export');
    await exportModel(run, exported, { quantization: 'none', checkSample: 5, threads: 1 });
    const before = readdirSync(exported).sort();
    await expect(trimVocab({ model: run, corpus: [data.train], out: exported })).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(readdirSync(exported).sort()).toEqual(before);
    await expect(trimVocab({ model: run, corpus: [data.train], out: join(run, 'best', 'trimmed') })).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    expect(existsSync(join(run, 'best', 'trimmed'))).toBe(false);
  }, 30_000);
});

describe('--min-count', () => {
  it('must be a positive integer: refused on the command line with exit status 2, and by the API', async () => {
    for (const value of ['0', '-1', '1.5', 'x']) {
      const out = newOut(`out-min-count-${value}`);
      const result = runXlmt(['trim-vocab', '--model', run, '--corpus', data.train, '--out', out, '--min-count', value]);
      expect(result.status, value).toBe(2);
      expect(result.stderr, value).toContain('BAD_OPTION');
      expect(result.stderr, value).toContain('--min-count');
      nothingWritten(out);
    }
    const out = newOut('out-min-count-api');
    await expect(trimVocab({ model: run, corpus: [data.train], out, minCount: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--min-count' } });
    nothingWritten(out);
  }, 60_000);
});

describe('a failed proof', () => {
  it('writes nothing and names the first text whose probabilities differ', async () => {
    // A graph whose logits read the token ids themselves: renumbered ids change its probabilities.
    const model = newOut('id-dependent-export');
    craftedExport(model, { idDependent: true });
    const corpus = rowsOf(data.train, 'en', join(data.dir, 'train-en.jsonl'));
    const out = newOut('out-failed-proof');
    const error = await trimVocab({ model, corpus: [corpus], out, threads: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRIM_CHECK_FAILED', where: { task: 'sentiment' } });
    const where = (error as { where: { file: string; line: number } }).where;
    expect([corpus, BUILT_IN_SAMPLE_NAME]).toContain(where.file);
    expect(where.line).toBeGreaterThan(0);
    nothingWritten(out);
  });

  it('names the first text the trimmed tokenizer splits differently, by file and line', async () => {
    const scorer = await loadScorer({ kind: 'model', dir: join(run, 'best') }, 1);
    try {
      // The "trimmed" tokenizer spells one kept word differently, so a text using it splits into other pieces.
      const json = scorer.tokenizer.json.replace('"great":', '"grEat":');
      const trimmed = { ...scorer, tokenizer: TextTokenizer.fromJSON(json, 'sabotaged') };
      const identity = new IdMap(new Uint8Array(scorer.tokenizer.vocabSize).fill(1));
      async function* lines(texts: readonly string[]): AsyncGenerator<CorpusLine> {
        for (const [i, text] of texts.entries()) yield { text, file: 'corpus.txt', line: i + 1 };
      }
      const proof = prove({ original: scorer, trimmed, map: identity, corpus: lines(['the service was fine', 'the staff was great today']), sample: lines([]), checkSample: 10 });
      await expect(proof).rejects.toMatchObject({ code: 'TRIM_CHECK_FAILED', where: { file: 'corpus.txt', line: 2 } });
    } finally {
      await scorer.model.release();
    }
  });
});

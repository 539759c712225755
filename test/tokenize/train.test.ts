// Training Unigram (XLM-R layout) and WordPiece (BERT layout) tokenizers on 2k lines of xm-bench text.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCorpusFiles, TextTokenizer, trainTokenizer, type TrainEvent } from '../../src/tokenize/index.ts';
import { DataError, renderIssue } from '../../src/data/index.ts';
import { XlmtError } from '../../src/errors/index.ts';
import { wordPieceRecipe } from '../../src/tokenize/recipes.ts';
import { wholeWords } from '../../src/tokenize/train.ts';
import { corpusLines, MULTI_SCRIPT, tempDir, writeTemp } from './fixtures.ts';

/** The error a call rejects with: a TokenizerError, or a DataError for a bad corpus line. */
async function rejection(promise: Promise<unknown>): Promise<XlmtError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(XlmtError);
  return error as XlmtError;
}

const SAMPLE = ['Hello world, how are you today?', 'Eravamo spaventati da morire.', '', ...MULTI_SCRIPT];

describe('trainTokenizer: unigram', () => {
  let tokenizer: TextTokenizer;
  const events: TrainEvent[] = [];
  beforeAll(async () => {
    tokenizer = await trainTokenizer(corpusLines(), { type: 'unigram', vocabSize: 3000, onProgress: (e) => events.push(e) });
  });

  it('has XLM-R special ids: <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last, and the requested size', () => {
    expect(tokenizer.vocabSize).toBe(3000);
    expect(tokenizer.specialTokens).toEqual({
      cls: { token: '<s>', id: 0 },
      pad: { token: '<pad>', id: 1 },
      sep: { token: '</s>', id: 2 },
      unk: { token: '<unk>', id: 3 },
      mask: { token: '<mask>', id: 2999 },
    });
    expect(events.map((e) => e.stage)).toEqual(['corpus', 'trained', 'done']);
    expect(events[0]).toMatchObject({ stage: 'corpus', texts: 2000 + MULTI_SCRIPT.length });
  });

  it('frames each text as <s> … </s>, with a Metaspace pre-tokenizer', async () => {
    const { tokens, ids } = await tokenizer.tokenize('Hello world');
    expect(tokens[0]).toBe('<s>');
    expect(tokens.at(-1)).toBe('</s>');
    expect([ids[0], ids.at(-1)]).toEqual([0, 2]);
    expect(tokens.slice(1, -1).join('')).toBe('▁Hello▁world');
  });

  it('round-trips text in any script, emoji included, without unknown tokens', async () => {
    for (const text of MULTI_SCRIPT) {
      const { ids } = await tokenizer.tokenize(text);
      expect(ids, text).not.toContain(3);
      expect(await tokenizer.decode(ids)).toBe(text.normalize('NFKC'));
    }
  });

  it('saves and loads back to identical bytes and identical ids', async () => {
    const path = join(tempDir(), 'unigram.json');
    tokenizer.save(path);
    const loaded = TextTokenizer.fromFile(path);
    expect(readFileSync(path, 'utf8')).toBe(tokenizer.json);
    expect(loaded.specialTokens).toEqual(tokenizer.specialTokens);
    const [a, b] = [await tokenizer.encodeBatch(SAMPLE, { maxLength: 16 }), await loaded.encodeBatch(SAMPLE, { maxLength: 16 })];
    expect(b.inputIds).toEqual(a.inputIds);
    expect(b.attentionMask).toEqual(a.attentionMask);
  });
});

describe('trainTokenizer: wordpiece', () => {
  let cased: TextTokenizer;
  let uncased: TextTokenizer;
  beforeAll(async () => {
    [cased, uncased] = await Promise.all([
      trainTokenizer(corpusLines(), { type: 'wordpiece', vocabSize: 2500 }),
      trainTokenizer(corpusLines(), { type: 'wordpiece', vocabSize: 2500, lowercase: true }),
    ]);
  });

  it('has BERT special ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4', () => {
    expect(cased.vocabSize).toBe(2500);
    expect(cased.specialTokens).toEqual({
      pad: { token: '[PAD]', id: 0 },
      unk: { token: '[UNK]', id: 1 },
      cls: { token: '[CLS]', id: 2 },
      sep: { token: '[SEP]', id: 3 },
      mask: { token: '[MASK]', id: 4 },
    });
  });

  it('frames each text as [CLS] … [SEP], lowercasing and stripping accents only when asked', async () => {
    const text = 'Größe Café';
    const [c, u] = [await cased.tokenize(text), await uncased.tokenize(text)];
    expect([c.ids[0], c.ids.at(-1), u.ids[0], u.ids.at(-1)]).toEqual([2, 3, 2, 3]);
    expect(await cased.decode(c.ids)).toBe('Größe Café');
    expect(await uncased.decode(u.ids)).toBe('große cafe');
  });

  it('encodes every script without unknown tokens or errors', async () => {
    for (const text of MULTI_SCRIPT) {
      const { ids } = await cased.tokenize(text);
      expect(ids, text).not.toContain(1);
      // BERT splits CJK characters and punctuation apart, so compare without spaces.
      expect((await cased.decode(ids)).replaceAll(' ', '')).toBe(text.replaceAll(' ', ''));
    }
  });

  it('saves and loads back to identical ids', async () => {
    const path = join(tempDir(), 'wordpiece.json');
    uncased.save(path);
    const loaded = TextTokenizer.fromFile(path);
    const [a, b] = [await uncased.encodeBatch(SAMPLE, { maxLength: 12 }), await loaded.encodeBatch(SAMPLE, { maxLength: 12 })];
    expect(b.inputIds).toEqual(a.inputIds);
    expect(b.seq).toBe(12);
    expect(Array.from(a.lengths).every((n) => n <= 12)).toBe(true);
  });
});

describe('trainTokenizer options and corpora', () => {
  it('drops pieces used fewer than minFrequency times, keeping the alphabet', async () => {
    const events: TrainEvent[] = [];
    const tokenizer = await trainTokenizer(corpusLines(), { type: 'wordpiece', vocabSize: 8000, minFrequency: 3, onProgress: (e) => events.push(e) });
    const done = events.find((e) => e.stage === 'done');
    expect(done?.stage === 'done' && done.droppedRare).toBeGreaterThan(1000);
    expect(tokenizer.vocabSize).toBeLessThan(8000);
    expect(tokenizer.tokenToId('ö')).not.toBeNull();
  });

  it('reads JSONL and plain-text corpus files', async () => {
    const lines = corpusLines(300);
    const jsonl = writeTemp('corpus.jsonl', lines.map((text) => JSON.stringify({ text, lang: 'xx' })).join('\n'));
    const txt = writeTemp('corpus.txt', lines.join('\n'));
    const read = async (files: string[]) => {
      const texts: string[] = [];
      for await (const text of readCorpusFiles(files)) texts.push(text);
      return texts;
    };
    expect(await read([jsonl])).toEqual(lines);
    expect(await read([txt, jsonl])).toEqual([...lines, ...lines]);
    const tokenizer = await trainTokenizer(readCorpusFiles([jsonl]), { type: 'unigram', vocabSize: 800 });
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(800);
  });

  it('keeps a text with line breaks as one text', async () => {
    const events: TrainEvent[] = [];
    const texts = [...corpusLines(200), 'first line\nsecond line\r\nthird line'];
    await trainTokenizer(texts, { type: 'wordpiece', vocabSize: 1000, onProgress: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ stage: 'corpus', texts: texts.length });
  });

  it('names file:line and the expectation for a bad JSONL line', async () => {
    const path = writeTemp('bad.jsonl', '{"text": "fine"}\n{"body": "no text field"}\n');
    const error = await rejection(trainTokenizer(readCorpusFiles([path]), { type: 'unigram', vocabSize: 100 }));
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).issues.map(renderIssue)).toEqual([
      `${path}:2: text: the line has no text (expected a string field "text"; received fields body). Choose the field with --text-field / textField`,
    ]);
    const notJson = writeTemp('worse.jsonl', '{"text": "fine"}\n{"text": \n');
    expect((await rejection(trainTokenizer(readCorpusFiles([notJson]), { type: 'unigram', vocabSize: 100 }))).message).toMatch(
      new RegExp(`^1 problem in .*\\(1 BAD_JSON\\):\n  ${notJson.replaceAll('/', '\\/')}:2: invalid JSON`),
    );
    const latin1 = writeTemp('latin1.txt', '');
    writeFileSync(latin1, Buffer.concat([Buffer.from('fine\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const invalid = await rejection(trainTokenizer(readCorpusFiles([latin1]), { type: 'unigram', vocabSize: 100 }));
    expect((invalid as DataError).issues.map((i) => [i.code, i.line])).toEqual([['INVALID_UTF8', 2]]);
  });

  it('rejects a missing corpus file, an empty corpus and vocab sizes it cannot honour', async () => {
    const missing = await rejection(trainTokenizer(readCorpusFiles(['/nonexistent/corpus.jsonl']), { type: 'unigram', vocabSize: 100 }));
    expect([missing.code, missing.message]).toEqual(['FILE_NOT_FOUND', '/nonexistent/corpus.jsonl: cannot read the corpus file: no such file or directory']);
    expect((await rejection(trainTokenizer(['', '  '], { type: 'unigram', vocabSize: 100 }))).code).toBe('CORPUS_EMPTY');
    expect((await rejection(trainTokenizer(['a b c'], { type: 'unigram', vocabSize: 32000 }))).message).toBe(
      'vocabSize: more than a unigram tokenizer trained with the tokenizers Node binding can have: ' +
        'the binding only exposes the default trainer, which stops at 8000 pieces (+ 5 special tokens) (expected at most 8005; received 32000)',
    );
    expect((await rejection(trainTokenizer(['abc def', 'ghi jkl'], { type: 'wordpiece', vocabSize: 10 }))).message).toBe(
      'vocabSize: too small for this corpus: its alphabet has 20 wordpiece pieces (single characters and their ## forms) ' +
        'plus 5 special tokens (expected at least 25; received 10)',
    );
  });
});

describe('trainTokenizer: WordPiece beyond the trainer\'s pieces', () => {
  it('fills the vocabulary with the most frequent whole words the pieces split', async () => {
    const corpus = writeTemp('words.txt', ['the cat sat', 'the cat ran', 'a dog', 'thé'].join('\n'));
    const text = readFileSync(corpus, 'utf8');
    // Pieces: only the alphabet (each character and its ## form), so every word of two or more letters is split.
    const letters = [...new Set(text.replace(/[\sé]/g, ''))].sort();
    const alphabetOnly = wordPieceRecipe.build(letters.flatMap((c) => [{ token: c, score: 0 }, { token: `##${c}`, score: 0 }]), false);
    // "the" and "cat" twice (ties in code point order); "sat", "ran", "dog" once; "a" is one piece; "thé" has an
    // unknown character, so its text cannot be rebuilt from pieces.
    expect(await wholeWords(alphabetOnly, corpus, 10, 2)).toEqual(['cat', 'the']);
    expect(await wholeWords(alphabetOnly, corpus, 1, 2)).toEqual(['cat']);
    expect(await wholeWords(alphabetOnly, corpus, 10, 1)).toEqual(['cat', 'the', 'dog', 'ran', 'sat']);
  });

  it('accepts a WordPiece vocabulary above the trainer\'s 30,000 pieces and reports the words it added', async () => {
    const events: TrainEvent[] = [];
    const tokenizer = await trainTokenizer(corpusLines(), { type: 'wordpiece', vocabSize: 40_000, onProgress: (e) => events.push(e) });
    const done = events.find((e) => e.stage === 'done');
    // On 2k lines the trainer stops well short of 30,000 pieces with every word whole: nothing to add.
    expect(done).toMatchObject({ stage: 'done', wholeWords: 0 });
    expect(tokenizer.vocabSize).toBeLessThan(30_000);
    await expect(trainTokenizer(['a b'], { type: 'wordpiece', vocabSize: 100, minWordCount: 0 })).rejects.toThrow(/minWordCount: not a count \(expected an integer ≥ 1; received 0\)/);
  });
});

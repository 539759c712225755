// Trimmed tokenizers tokenize exactly as before: for each model type (Unigram, WordPiece, BPE byte-level and
// character-level), every text whose original pieces all survived gives the same pieces, with renumbered ids,
// and the ids the rest of tokenizer.json holds (post-processor, padding, added tokens, unk) follow.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_SAMPLE } from '../../src/compress/trim-vocab/index.ts';
import { SPECIAL_ROLES, trainTokenizer } from '../../src/tokenize/index.ts';
import { bertJson, MULTI_SCRIPT, xlmrJson } from '../tokenize/fixtures.ts';
import { bpeJson, compare, trimTokenizer, type Trimmed } from './trim-vocab-fixtures.ts';

interface Line {
  readonly text: string;
  readonly lang: string;
}

const LINES: readonly Line[] = readFileSync('data/demo/unlabeled.jsonl', 'utf8').trim().split('\n').slice(0, 3000).map((l) => JSON.parse(l) as Line);
/** What the trimmed model must read: English, Portuguese and Greek (Latin and Greek scripts). */
const CORPUS = LINES.slice(0, 1500).filter((l) => ['en', 'pt', 'el'].includes(l.lang)).map((l) => l.text);
/** Everything else: other languages and scripts, and text never seen by the tokenizer's training. */
const OTHER = [...LINES.slice(1500).map((l) => l.text), ...BUILT_IN_SAMPLE, ...MULTI_SCRIPT];
const TRAINING = [...LINES.map((l) => l.text), ...MULTI_SCRIPT];

/** The checks every model type passes. */
function sharedChecks(name: string, make: () => Promise<string>): void {
  describe(name, () => {
    let json: string;
    let t: Trimmed;
    beforeAll(async () => {
      json = await make();
      t = await trimTokenizer(json, CORPUS);
    });

    it('keeps fewer tokens, and every corpus text tokenizes exactly as before', async () => {
      expect(t.map.size).toBeLessThan(t.original.vocabSize);
      expect(t.trimmed.vocabSize).toBe(t.map.size);
      const result = await compare(t, CORPUS);
      expect(result.changed).toEqual([]);
      expect(result.survived).toBe(CORPUS.length);
    });

    it('tokenizes other text exactly as before wherever its pieces survived, and differently elsewhere', async () => {
      const result = await compare(t, OTHER);
      expect(result.survived).toBeGreaterThan(50);
      expect(result.changed.length).toBeGreaterThan(50);
    });

    it('keeps the special tokens with renumbered ids', () => {
      for (const role of SPECIAL_ROLES) {
        const before = t.original.specialTokens[role];
        const after = t.trimmed.specialTokens[role];
        if (before === null) expect(after).toBeNull();
        else expect(after, role).toEqual({ token: before.token, id: t.map.newId(before.id) });
      }
    });

    it('with --min-count 3 keeps fewer tokens and still tokenizes every surviving text as before', async () => {
      const rare = await trimTokenizer(json, CORPUS, 3);
      expect(rare.map.size).toBeLessThan(t.map.size);
      const result = await compare(rare, [...CORPUS, ...OTHER]);
      expect(result.changed.length).toBeGreaterThan(0);
      expect(result.survived).toBeGreaterThan(0);
    });
  });
}

sharedChecks('Unigram (XLM-R layout, trained)', async () => (await trainTokenizer(TRAINING, { type: 'unigram', vocabSize: 3000 })).json);
sharedChecks('WordPiece (BERT layout, trained)', async () => (await trainTokenizer(TRAINING, { type: 'wordpiece', vocabSize: 3000 })).json);
sharedChecks('BPE, byte-level (RoBERTa layout)', async () => bpeJson(TRAINING, { style: 'byte-level', merges: 1500 }));
sharedChecks('BPE, characters with ## continuations', async () => bpeJson(TRAINING, { style: 'char', merges: 1500 }));

describe('what is kept beyond the corpus tokens', () => {
  it('Unigram: single characters of the corpus scripts (unseen Latin words tokenize without unknowns), not of others', async () => {
    const t = await trimTokenizer((await trainTokenizer(TRAINING, { type: 'unigram', vocabSize: 3000 })).json, CORPUS);
    const unk = t.trimmed.specialTokens.unk?.id;
    const latin = await t.trimmed.tokenize('Zwyczajny Kühlschrank jämför');
    expect(latin.ids).not.toContain(unk);
    const arabic = await t.original.tokenize('مرحبا بالعالم');
    expect(arabic.ids).not.toContain(t.original.specialTokens.unk?.id);
    expect((await t.trimmed.tokenize('مرحبا بالعالم')).ids).toContain(unk);
    expect(t.selection.keptBy.singleChar).toBeGreaterThan(0);
  });

  it('Unigram: the lowest-scoring piece stays, so the unknown-character penalty is unchanged', async () => {
    const json = (await trainTokenizer(TRAINING, { type: 'unigram', vocabSize: 3000 })).json;
    const t = await trimTokenizer(json, CORPUS);
    const scores = (JSON.parse(json) as { model: { vocab: [string, number][] } }).model.vocab.map(([, s]) => s);
    const trimmedScores = (JSON.parse(t.trimmed.json) as { model: { vocab: [string, number][] } }).model.vocab.map(([, s]) => s);
    expect(Math.min(...trimmedScores)).toBe(Math.min(...scores));
  });

  it('WordPiece: keeps both forms of each single character of the corpus scripts (a and ##a)', async () => {
    const t = await trimTokenizer((await trainTokenizer(TRAINING, { type: 'wordpiece', vocabSize: 3000 })).json, CORPUS);
    for (const c of ['q', 'ζ']) {
      if (t.original.tokenToId(c) !== null) expect(t.trimmed.tokenToId(c), c).not.toBeNull();
      if (t.original.tokenToId(`##${c}`) !== null) expect(t.trimmed.tokenToId(`##${c}`), `##${c}`).not.toBeNull();
    }
    expect(t.trimmed.tokenToId('ش')).toBeNull();
  });

  it('byte-level BPE: keeps all 256 byte characters, so no text has an unknown token', async () => {
    const t = await trimTokenizer(bpeJson(TRAINING, { style: 'byte-level', merges: 1500 }), CORPUS);
    expect(t.selection.keptBy.model + t.selection.keptBy.singleChar + t.selection.keptBy.used).toBeGreaterThanOrEqual(256);
    for (const text of MULTI_SCRIPT) expect(await t.trimmed.decode((await t.trimmed.tokenize(text)).ids)).toBe(text);
  });

  it('BPE: keeps the merges that build kept pieces, with their parts; writes merges in the spelling it read', async () => {
    const t = await trimTokenizer(bpeJson(TRAINING, { style: 'char', merges: 1500 }), CORPUS);
    expect(t.selection.keptBy.merges).toBeGreaterThan(0);
    const model = (JSON.parse(t.trimmed.json) as { model: { merges: unknown[]; vocab: Record<string, number> } }).model;
    expect(typeof model.merges[0]).toBe('string');
    for (const merge of model.merges as string[]) {
      const [a, b] = merge.split(' ') as [string, string];
      expect(model.vocab[a], merge).toBeDefined();
      expect(model.vocab[b], merge).toBeDefined();
      expect(model.vocab[a + b.replace(/^##/, '')], merge).toBeDefined();
    }
  });
});

describe('ids outside the model', () => {
  it('renumbers added tokens, padding, RobertaProcessing ids and the Unigram unk_id (XLM-R layout, <mask> last)', async () => {
    const t = await trimTokenizer(xlmrJson(), ['hello hello world']);
    const json = JSON.parse(t.trimmed.json) as {
      added_tokens: { id: number; content: string }[];
      padding: { pad_id: number };
      post_processor: { cls: [string, number]; sep: [string, number] };
      model: { unk_id: number; vocab: [string, number][] };
      truncation: unknown;
    };
    const mask = json.added_tokens.find((a) => a.content === '<mask>');
    expect(mask?.id).toBe(t.trimmed.vocabSize - 1);
    expect(json.model.vocab[mask?.id ?? -1]?.[0]).toBe('<mask>');
    expect(json.padding.pad_id).toBe(1);
    expect(json.post_processor).toMatchObject({ cls: ['<s>', 0], sep: ['</s>', 2] });
    expect(json.model.vocab[json.model.unk_id]?.[0]).toBe('<unk>');
    expect(json.truncation).toEqual((JSON.parse(xlmrJson()) as { truncation: unknown }).truncation);
  });

  it('renumbers TemplateProcessing special token ids (mBERT layout: [unused] slots dropped)', async () => {
    const t = await trimTokenizer(bertJson(), ['hello worlds!']);
    const template = (JSON.parse(t.trimmed.json) as { post_processor: { special_tokens: Record<string, { ids: number[] }> } }).post_processor;
    expect(template.special_tokens['[CLS]']?.ids).toEqual([t.map.newId(101)]);
    expect(template.special_tokens['[SEP]']?.ids).toEqual([t.map.newId(102)]);
    expect(t.map.newId(101)).toBeLessThan(10);
    const tokens = await t.trimmed.tokenize('Hello worlds!');
    expect(tokens.tokens).toEqual(['[CLS]', 'hello', 'world', '##s', '!', '[SEP]']);
    expect(tokens.ids).toEqual([101, 104, 105, 106, 107, 102].map((id) => t.map.newId(id)));
  });
});

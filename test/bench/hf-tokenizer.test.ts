// An exported Unigram tokenizer (Nmt normalizer) rewritten for transformers.js: same ids in the Rust `tokenizers`,
// and the same ids from transformers.js's tokenizer port, which cannot load the original.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { portableTokenizerJson, TOKENIZER_CONFIG_FILE, tokenizerConfig } from '../../src/export/hf-tokenizer.ts';
import { TextTokenizer, trainTokenizer } from '../../src/tokenize/index.ts';
import { bertJson, corpusLines, MULTI_SCRIPT, tempDir } from '../tokenize/fixtures.ts';

/** One text per code point Nmt drops or turns into a space, between letters, plus texts that start or end with them. */
const NMT_TEXTS = [
  ...[0x01, 0x07, 0x08, 0x0b, 0x0e, 0x1f, 0x7f, 0x8f, 0x9f].map((c) => `ab${String.fromCodePoint(c)}cd`),
  ...[0x09, 0x0a, 0x0c, 0x0d, 0x1680, 0x200b, 0x200d, 0x200f, 0x2028, 0x2029, 0x2581, 0xfeff, 0xfffd].map((c) => `ab${String.fromCodePoint(c)}cd`),
  '\u200bstart', 'end\ufeff', '\t\n  spaced \r\n', 'ｆｕｌｌ　ｗｉｄｔｈ ①', '',
];

let original: TextTokenizer;
let portable: TextTokenizer;
beforeAll(async () => {
  original = await trainTokenizer(corpusLines(1000), { type: 'unigram', vocabSize: 2000 });
  portable = TextTokenizer.fromJSON(portableTokenizerJson(original.json), 'portable tokenizer');
}, 120_000);

async function ids(tokenizer: TextTokenizer, texts: readonly string[]): Promise<number[][]> {
  const batch = await tokenizer.encodeBatch(texts, { maxLength: 1 << 20, padding: 'longest', truncation: true });
  return texts.map((_, i) => Array.from(batch.inputIds.subarray(i * batch.seq, i * batch.seq + (batch.lengths[i] as number)), Number));
}

describe('portableTokenizerJson', () => {
  it('spells Nmt as two Replace normalizers and keeps the rest of the sequence', () => {
    const before = JSON.parse(original.json) as { normalizer: { normalizers: { type: string }[] } };
    const after = JSON.parse(portableTokenizerJson(original.json)) as typeof before;
    expect(before.normalizer.normalizers.map((n) => n.type)).toEqual(['Nmt', 'NFKC']);
    expect(after.normalizer.normalizers.map((n) => n.type)).toEqual(['Replace', 'Replace', 'NFKC']);
  });

  it('returns a tokenizer without Nmt unchanged', () => {
    const json = bertJson();
    expect(portableTokenizerJson(json)).toBe(json);
  });

  it('gives the ids of the original in the Rust tokenizers', async () => {
    const texts = [...NMT_TEXTS, ...MULTI_SCRIPT, ...corpusLines(1000)];
    const expected = await ids(original, texts);
    expect(await ids(portable, texts)).toEqual(expected);
    // The clean-up did something: a dropped control character leaves "abcd", a space leaves "ab cd".
    const [dropped, , , , , , , , , spaced] = await ids(original, NMT_TEXTS);
    expect(dropped).toEqual((await ids(original, ['abcd']))[0]);
    expect(spaced).toEqual((await ids(original, ['ab cd']))[0]);
  });

  it('is what transformers.js runs, with the ids of the original', async () => {
    const dir = join(tempDir(), 'unigram');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), portableTokenizerJson(original.json));
    writeFileSync(join(dir, TOKENIZER_CONFIG_FILE), JSON.stringify(tokenizerConfig(original, 512)));
    const { env, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = dirname(dir);
    const js = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
    const texts = [...NMT_TEXTS, ...MULTI_SCRIPT];
    const expected = await ids(original, texts);
    expect(texts.map((t) => js.encode(t))).toEqual(expected);
  });
});

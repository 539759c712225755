// A run's n-gram table from its tokenizer: each model type's word marks, special tokens, unknown models.
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { charNgramTableOf } from '../../src/train/char-ngrams.ts';
import { wordPieceJson } from './fixtures.ts';

const SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'];

function tokenizerJson(model: Record<string, unknown>): string {
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null, decoder: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model,
  });
}

const held = (table: ReturnType<typeof charNgramTableOf>, id: number): number => (table.offsets[id + 1] as number) - (table.offsets[id] as number);

describe('charNgramTableOf', () => {
  it('reads byte-level BPE word starts (Ġ)', () => {
    const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, 'Ġplay': 4, 'Ġplaying': 5, 'ing': 6, 'Ġpray': 7 };
    const tokenizer = TextTokenizer.fromJSON(tokenizerJson({ type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, vocab, merges: [] }));
    const table = charNgramTableOf(tokenizer, 8, { min: 3, max: 3 });
    expect(table.size).toBe(4); // <pl pla lay (Ġplay, Ġplaying) and ing (ing, Ġplaying)
    expect([4, 5, 6, 7].map((id) => held(table, id))).toEqual([3, 4, 1, 0]);
  });

  it('gives special tokens and ids past the tokenizer no n-grams (WordPiece)', () => {
    const tokenizer = TextTokenizer.fromJSON(wordPieceJson(120));
    const table = charNgramTableOf(tokenizer, 130, { min: 2, max: 3 });
    for (const id of [0, 1, 2, 3, 4, 125]) expect(held(table, id), `id ${id}`).toBe(0);
    expect(table.size).toBeGreaterThan(0);
  });

  it('names the tokenizer when its model type has no word marks it knows', () => {
    const tokenizer = TextTokenizer.fromJSON(tokenizerJson({ type: 'WordLevel', vocab: { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, play: 4 }, unk_token: '<unk>' }), 'levels.json');
    expect(() => charNgramTableOf(tokenizer, 5, { min: 3, max: 5 })).toThrow(/^levels\.json: model\.type: character n-grams need a WordPiece, Unigram or BPE tokenizer \(expected "WordPiece", "Unigram" or "BPE"; received "WordLevel"\)/);
  });
});

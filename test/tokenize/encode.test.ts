// Batch encoding into model inputs: shapes, padding modes, truncation that keeps the closing special token, errors.
import { describe, expect, it } from 'vitest';
import { TextTokenizer, TokenizerError, type EncodedBatch } from '../../src/tokenize/index.ts';
import { bertJson, writeTemp, xlmrJson } from './fixtures.ts';

const ints = (a: BigInt64Array): number[] => Array.from(a, Number);
const rows = (a: BigInt64Array | Float32Array, seq: number): number[][] => {
  const flat = Array.from(a, Number);
  return Array.from({ length: flat.length / seq }, (_, i) => flat.slice(i * seq, (i + 1) * seq));
};

async function rejection(promise: Promise<unknown>): Promise<TokenizerError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenizerError);
  return error as TokenizerError;
}

describe('encodeBatch', () => {
  const xlmr = TextTokenizer.fromJSON(xlmrJson(), 'xlmr.json');
  const bert = TextTokenizer.fromJSON(bertJson(), 'bert.json');
  const texts = ['hello world', 'hello', '', 'world world worlds hello'];

  it("pads to the longest text with 'longest': ids, mask, type ids and lengths", async () => {
    const b: EncodedBatch = await xlmr.encodeBatch(texts, { maxLength: 32 });
    expect([b.batch, b.seq]).toEqual([4, 7]);
    expect(b.inputIds).toBeInstanceOf(BigInt64Array);
    expect(b.attentionMask).toBeInstanceOf(Float32Array);
    expect(b.tokenTypeIds).toBeInstanceOf(BigInt64Array);
    expect(rows(b.inputIds, b.seq)).toEqual([
      [0, 4, 5, 2, 1, 1, 1],
      [0, 4, 2, 1, 1, 1, 1],
      [0, 2, 1, 1, 1, 1, 1],
      [0, 5, 5, 5, 6, 4, 2],
    ]);
    expect(rows(b.attentionMask, b.seq)).toEqual([
      [1, 1, 1, 1, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ]);
    expect(ints(b.tokenTypeIds)).toEqual(new Array(28).fill(0));
    expect(Array.from(b.lengths)).toEqual([4, 3, 2, 7]);
  });

  it("pads to maxLength with 'max_length', with the tokenizer's own pad id", async () => {
    const b = await bert.encodeBatch(['hello world', 'worlds'], { maxLength: 6, padding: 'max_length' });
    expect(b.seq).toBe(6);
    expect(rows(b.inputIds, 6)).toEqual([
      [101, 104, 105, 102, 0, 0],
      [101, 105, 106, 102, 0, 0],
    ]);
    expect(rows(b.attentionMask, 6)).toEqual([
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 0, 0],
    ]);
  });

  it('truncates to maxLength keeping the closing </s> / [SEP], and the start of the text', async () => {
    const long = 'hello world hello world hello world hello';
    const x = await xlmr.encodeBatch([long, 'hello'], { maxLength: 5 });
    expect(x.seq).toBe(5);
    expect(rows(x.inputIds, 5)).toEqual([
      [0, 4, 5, 4, 2],
      [0, 4, 2, 1, 1],
    ]);
    expect(Array.from(x.lengths)).toEqual([5, 3]);
    const b = await bert.encodeBatch(['hello world, hello world!'], { maxLength: 4, padding: 'max_length' });
    expect(ints(b.inputIds)).toEqual([101, 104, 105, 102]);
  });

  it("accepts 'none' when every text has the same token length, and says why otherwise", async () => {
    const same = await xlmr.encodeBatch(['hello world', 'world hello'], { maxLength: 8, padding: 'none' });
    expect(rows(same.inputIds, same.seq)).toEqual([
      [0, 4, 5, 2],
      [0, 5, 4, 2],
    ]);
    const error = await rejection(xlmr.encodeBatch(['hello world', 'hello'], { maxLength: 8, padding: 'none' }));
    expect(error.message).toBe(
      "encodeBatch: padding 'none' needs texts of equal token length (expected 4 tokens, as text 0; received 3 tokens in text 1). Use padding 'longest' or 'max_length'",
    );
  });

  it('rejects a text longer than maxLength when truncation is off, naming the text', async () => {
    const error = await rejection(xlmr.encodeBatch(['hello', 'hello world hello'], { maxLength: 4, truncation: false }));
    expect(error.code).toBe('SEQUENCE_TOO_LONG');
    expect(error.message).toBe('encodeBatch: text 1 ("hello world hello") is too long (expected at most maxLength 4 tokens; received 5 tokens). Encode with truncation: true or raise maxLength');
  });

  it('handles empty strings and an empty batch', async () => {
    const empties = await bert.encodeBatch(['', ''], { maxLength: 8 });
    expect(rows(empties.inputIds, empties.seq)).toEqual([
      [101, 102],
      [101, 102],
    ]);
    const none = await bert.encodeBatch([], { maxLength: 8 });
    expect([none.batch, none.seq, none.inputIds.length, none.lengths.length]).toEqual([0, 0, 0, 0]);
  });

  it('needs a pad token to pad, and names the file when there is none', async () => {
    const path = writeTemp('no-pad.json', bertJson({ withPad: false }));
    const tokenizer = TextTokenizer.fromFile(path);
    const error = await rejection(tokenizer.encodeBatch(['hello', 'hello world'], { maxLength: 8 }));
    expect(error.code).toBe('TOKENIZER_MISSING_SPECIAL_TOKEN');
    expect(error.message).toBe(
      `${path}: no pad token, needed for padding 'longest' (expected one of padding.pad_token and the tokens [PAD], <pad>). ` +
        `Add one to the tokenizer's added_tokens or encode with padding: 'none'`,
    );
    const unpadded = await tokenizer.encodeBatch(['hello world'], { maxLength: 8, padding: 'none' });
    expect(ints(unpadded.inputIds)).toEqual([101, 104, 105, 102]);
  });

  it('rejects options that cannot work', async () => {
    const zero = await rejection(bert.encodeBatch(['a'], { maxLength: 0 }));
    expect([zero.code, zero.message]).toEqual(['BAD_ARGUMENT', 'encodeBatch: maxLength: maxLength is not a positive integer (received 0)']);
    expect((await rejection(bert.encodeBatch(['a'], { maxLength: 2 }))).message).toBe(
      'encodeBatch: maxLength: maxLength leaves no room for text: the post-processor adds 2 special tokens per text (expected more than 2; received 2)',
    );
    const notText = [42] as unknown as string[];
    expect((await rejection(bert.encodeBatch(notText, { maxLength: 8 }))).message).toBe('encodeBatch: text 0 is not a string (expected a string; received 42)');
  });
});

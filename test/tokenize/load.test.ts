// Loading tokenizer.json files: BERT- and XLM-R-style layouts, special-token discovery, save round trip, clear errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TextTokenizer, TokenizerError } from '../../src/tokenize/index.ts';
import { bertJson, tempDir, writeTemp, xlmrJson } from './fixtures.ts';

function thrown(fn: () => unknown): TokenizerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenizerError);
    return e as TokenizerError;
  }
  throw new Error('expected a TokenizerError, nothing was thrown');
}

describe('TextTokenizer loading', () => {
  it('reads an mBERT-style WordPiece file and finds its specials from TemplateProcessing and the model', async () => {
    const path = writeTemp('bert.json', bertJson());
    const tokenizer = TextTokenizer.fromFile(path);
    expect(tokenizer.source).toBe(path);
    expect(tokenizer.vocabSize).toBe(111);
    expect(tokenizer.specialTokens).toEqual({
      pad: { token: '[PAD]', id: 0 },
      cls: { token: '[CLS]', id: 101 },
      sep: { token: '[SEP]', id: 102 },
      unk: { token: '[UNK]', id: 100 },
      mask: { token: '[MASK]', id: 103 },
    });
    expect(await tokenizer.tokenize('Hello worlds! 你好')).toEqual({
      tokens: ['[CLS]', 'hello', 'world', '##s', '!', '你', '好', '[SEP]'],
      ids: [101, 104, 105, 106, 107, 109, 110, 102],
    });
  });

  it('reads an XLM-R-style Unigram file from a string, ignoring the padding and truncation stored in it', async () => {
    const tokenizer = TextTokenizer.fromJSON(xlmrJson());
    expect(tokenizer.source).toBe('tokenizer JSON string');
    expect(tokenizer.specialTokens).toEqual({
      pad: { token: '<pad>', id: 1 },
      cls: { token: '<s>', id: 0 },
      sep: { token: '</s>', id: 2 },
      unk: { token: '<unk>', id: 3 },
      mask: { token: '<mask>', id: 15 },
    });
    // The file truncates to 3 tokens; encoding options are per call here, so all 6 come out.
    expect(await tokenizer.tokenize('hello hello world world')).toEqual({
      tokens: ['<s>', '▁hello', '▁hello', '▁world', '▁world', '</s>'],
      ids: [0, 4, 4, 5, 5, 2],
    });
    expect(await tokenizer.tokenize('hello <mask>')).toEqual({ tokens: ['<s>', '▁hello', ' <mask>', '</s>'], ids: [0, 4, 15, 2] });
    expect(await tokenizer.decode([0, 4, 5, 6, 2])).toBe('hello worlds');
    expect(await tokenizer.decode([0, 4, 2], { skipSpecialTokens: false })).toBe('<s> hello</s>');
  });

  it('takes cls/sep from a Sequence post-processor and falls back to conventional names without one', () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    const roberta = { type: 'RobertaProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101], trim_offsets: true, add_prefix_space: true };
    const sequence = TextTokenizer.fromJSON(bertJson({ postProcessor: { type: 'Sequence', processors: [byteLevel, roberta] } }));
    expect([sequence.specialTokens.cls, sequence.specialTokens.sep]).toEqual([{ token: '[CLS]', id: 101 }, { token: '[SEP]', id: 102 }]);
    const none = TextTokenizer.fromJSON(bertJson({ postProcessor: null }));
    expect([none.specialTokens.cls, none.specialTokens.sep]).toEqual([{ token: '[CLS]', id: 101 }, { token: '[SEP]', id: 102 }]);
  });

  it('saves exactly the JSON it read, and the copy encodes identically', async () => {
    const original = TextTokenizer.fromJSON(xlmrJson(), 'fixture');
    const path = join(tempDir(), 'nested', 'tokenizer.json');
    original.save(path);
    expect(readFileSync(path, 'utf8')).toBe(xlmrJson());
    const copy = TextTokenizer.fromFile(path);
    const texts = ['hello world', 'worlds hello', ''];
    const [a, b] = [await original.encodeBatch(texts, { maxLength: 16 }), await copy.encodeBatch(texts, { maxLength: 16 })];
    expect(b.inputIds).toEqual(a.inputIds);
  });

  it('names the file when it is missing', () => {
    const error = thrown(() => TextTokenizer.fromFile('/nonexistent/dir/tokenizer.json'));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.where).toEqual({ file: '/nonexistent/dir/tokenizer.json' });
    expect(error.message).toBe('/nonexistent/dir/tokenizer.json: cannot read the tokenizer: no such file or directory');
  });

  it('names the file and the parse error for invalid JSON', () => {
    const path = writeTemp('broken.json', '{"model": {"type": "WordPiece", ');
    const error = thrown(() => TextTokenizer.fromFile(path));
    expect(error.code).toBe('TOKENIZER_INVALID');
    expect(error.message).toMatch(new RegExp(`^${path.replaceAll('/', '\\/')}: not valid JSON: .+ \\(expected a Hugging Face tokenizer.json\\)$`));
  });

  it('says where a JSON file departs from tokenizer.json', () => {
    const error = thrown(() => TextTokenizer.fromJSON('{"vocab": {"a": 0}}', 'vocab.json'));
    expect(error.code).toBe('TOKENIZER_INVALID');
    expect(error.where).toEqual({ file: 'vocab.json', field: 'model' });
    expect(error.message).toMatch(/^vocab\.json: model: not a tokenizer\.json: .+ \(expected a Hugging Face tokenizer\.json; received \{"vocab":\{"a":0\}\}\)$/);
  });

  it('passes on what the library rejects, naming the source', () => {
    const json = bertJson().replace('"type":"WordPiece","unk_token"', '"type":"NoSuchModel","unk_token"');
    const error = thrown(() => TextTokenizer.fromJSON(json, 'odd.json'));
    expect(error.code).toBe('TOKENIZER_INVALID');
    expect(error.message).toMatch(/^odd\.json: the tokenizers library cannot load it: .+/);
  });

  it('reports a missing special token by role, file and what was searched', () => {
    const path = writeTemp('no-pad.json', bertJson({ withPad: false }));
    const tokenizer = TextTokenizer.fromFile(path);
    expect(tokenizer.specialTokens.pad).toBeNull();
    const error = thrown(() => tokenizer.special('pad'));
    expect(error.code).toBe('TOKENIZER_MISSING_SPECIAL_TOKEN');
    expect(error.message).toBe(
      `${path}: no pad token (expected one of padding.pad_token and the tokens [PAD], <pad>). ` +
        `Add one to the tokenizer's added_tokens or encode with padding: 'none'`,
    );
  });
});

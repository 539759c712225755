// The feeds of one masked-LM step: encoder inputs by position convention, masking, counts, tokenizer checks.
import { describe, expect, it } from 'vitest';
import { hfModelConfig } from '../../src/checkpoint/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { maskingVocab, maskTokens, mlmBatch, PretrainError } from '../../src/pretrain/index.ts';
import { positionsOf } from '../../src/tokenize/index.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { bertJson, xlmrJson } from '../tokenize/fixtures.ts';

const rows = (a: BigInt64Array | Float32Array, seq: number): number[][] => {
  const flat = Array.from(a, Number);
  return Array.from({ length: flat.length / seq }, (_, i) => flat.slice(i * seq, (i + 1) * seq));
};

describe('mlmBatch', () => {
  const xlmr = TextTokenizer.fromJSON(xlmrJson(), 'xlmr.json');
  const bert = TextTokenizer.fromJSON(bertJson(), 'bert.json');
  const texts = ['hello world', 'hello', 'world world worlds hello'];

  it('packs XLM-R feeds: RoBERTa positions from padding_idx + 1, zero token types, masked ids and MLM inputs', async () => {
    const draw = { seed: 4, step: 17 };
    const b = await mlmBatch(xlmr, texts, { maxLength: 32, positions: { convention: 'roberta', paddingIdx: 1 }, ...draw });
    const f = b.feeds;
    expect(Object.keys(f).sort()).toEqual(['attention_mask', 'input_ids', 'mlm_labels', 'mlm_positions', 'position_ids', 'token_type_ids']);
    expect([b.sequences, b.seq, b.tokens, b.masked]).toEqual([3, 7, 4 + 3 + 7, f.mlm_positions?.shape[0]]);
    for (const name of ['input_ids', 'position_ids', 'token_type_ids', 'attention_mask']) expect(f[name]?.shape).toEqual([3, 7]);
    expect(rows(f.position_ids?.data as BigInt64Array, 7)).toEqual([
      [2, 3, 4, 5, 1, 1, 1],
      [2, 3, 4, 1, 1, 1, 1],
      [2, 3, 4, 5, 6, 7, 8],
    ]);
    expect(Array.from(f.token_type_ids?.data as BigInt64Array, Number)).toEqual(new Array(21).fill(0));
    expect(rows(f.attention_mask?.data as Float32Array, 7)).toEqual([
      [1, 1, 1, 1, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ]);
    // Exactly maskTokens on the encoded batch, with the tokenizer's ids.
    const encoded = await xlmr.encodeBatch(texts, { maxLength: 32 });
    const expected = maskTokens(encoded, maskingVocab(xlmr), draw);
    expect(f.input_ids).toEqual({ dtype: 'int64', shape: [3, 7], data: expected.inputIds });
    expect(f.mlm_positions).toEqual({ dtype: 'int64', shape: [b.masked], data: expected.positions });
    expect(f.mlm_labels).toEqual({ dtype: 'int64', shape: [b.masked], data: expected.labels });
    expect(b.masked).toBeGreaterThanOrEqual(1);
  });

  it('numbers BERT positions 0.. in every row and truncates to maxLength keeping [SEP]', async () => {
    const b = await mlmBatch(bert, ['hello world hello world', 'hello'], { maxLength: 4, positions: { convention: 'bert' }, seed: 0, step: 0, masking: { maskProbability: 1, maskReplace: 1, randomReplace: 0 } });
    expect([b.seq, b.tokens]).toEqual([4, 7]);
    expect(rows(b.feeds.position_ids?.data as BigInt64Array, 4)).toEqual([[0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(rows(b.feeds.input_ids?.data as BigInt64Array, 4)).toEqual([[101, 103, 103, 102], [101, 103, 102, 0]]);
    expect(Array.from(b.feeds.mlm_positions?.data as BigInt64Array, Number)).toEqual([1, 2, 5]);
    expect(Array.from(b.feeds.mlm_labels?.data as BigInt64Array, Number)).toEqual([104, 105, 104]);
  });

  it('takes the convention from a Hugging Face config', () => {
    const encoder = encoderConfig({ vocabSize: 16, hiddenSize: 8, numAttentionHeads: 2 });
    expect(positionsOf(hfModelConfig(encoder, { modelType: 'xlm-roberta' }))).toEqual({ convention: 'roberta', paddingIdx: 1 });
    expect(positionsOf(hfModelConfig(encoder, { modelType: 'bert' }))).toEqual({ convention: 'bert' });
  });

  it("rejects a tokenizer whose pad id is not the model's RoBERTa padding index, and an empty batch", async () => {
    const mismatch = await mlmBatch(bert, texts, { maxLength: 8, positions: { convention: 'roberta', paddingIdx: 1 }, seed: 0, step: 0 }).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(PretrainError);
    expect((mismatch as PretrainError).code).toBe('TOKENIZER_MISMATCH');
    expect((mismatch as PretrainError).message).toMatch(/^bert\.json: pads with an id other than the model's padding index.*\(expected pad id 1 \(the model's pad_token_id\); received 0\)/);
    await expect(mlmBatch(xlmr, [], { maxLength: 8, positions: { convention: 'bert' }, seed: 0, step: 0 })).rejects.toThrow('mlmBatch: no texts to make a batch of');
  });
});

// Position ids on a padded batch: BERT counts every slot from 0, RoBERTa/XLM-R counts real tokens from padding_idx + 1.
import { describe, expect, it } from 'vitest';
import { bertPositionIds, positionIds, robertaPositionIds, TextTokenizer } from '../../src/tokenize/index.ts';
import { xlmrJson } from './fixtures.ts';

const ints = (a: BigInt64Array): number[] => Array.from(a, Number);

describe('position ids', () => {
  it('follow both conventions on a right-padded XLM-R batch', async () => {
    const tokenizer = TextTokenizer.fromJSON(xlmrJson());
    const batch = await tokenizer.encodeBatch(['hello world', '', 'hello'], { maxLength: 8, padding: 'max_length' });
    // rows: <s> hello world </s> pad… | <s> </s> pad… | <s> hello </s> pad…
    expect(ints(positionIds(batch, { convention: 'bert' }))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
      0, 1, 2, 3, 4, 5, 6, 7,
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(ints(positionIds(batch, { convention: 'roberta', paddingIdx: 1 }))).toEqual([
      2, 3, 4, 5, 1, 1, 1, 1,
      2, 3, 1, 1, 1, 1, 1, 1,
      2, 3, 4, 1, 1, 1, 1, 1,
    ]);
  });

  it('count only non-pad tokens for RoBERTa, so left padding starts real tokens at padding_idx + 1', () => {
    const leftPadded = BigInt64Array.from([1, 1, 0, 7, 2, 0, 7, 7, 7, 2].map(BigInt));
    expect(ints(robertaPositionIds(leftPadded, 5, 1))).toEqual([1, 1, 2, 3, 4, 2, 3, 4, 5, 6]);
    expect(ints(bertPositionIds(2, 5))).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  });

  it('reject ids that do not split into rows', () => {
    expect(() => robertaPositionIds(new BigInt64Array(7), 3, 1)).toThrow('robertaPositionIds: the input ids do not split into rows (expected a multiple of seq 3; received 7 ids)');
  });
});

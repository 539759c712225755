// From-scratch encoders: presets of the paper's shapes, explicit sizes over them, conventions from the tokenizer.
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { TRAIN_SHAPE, parseTrainConfig } from '../../src/train/config.ts';
import { resolveShape, scratchConfig } from '../../src/train/encoder-shape.ts';
import { runFixture } from './fixtures.ts';

describe('encoder shapes', () => {
  it('take a preset, then explicit sizes over it, then the defaults', () => {
    expect(resolveShape({}, TRAIN_SHAPE)).toEqual(TRAIN_SHAPE);
    expect(resolveShape({ preset: 'xtremedistil-l6-h256-uncased' }, TRAIN_SHAPE)).toMatchObject({ layers: 6, hidden: 256, heads: 8, ffn: 1024, typeVocab: 2 });
    expect(resolveShape({ preset: 'xlm-roberta-base', layers: 2 }, TRAIN_SHAPE)).toMatchObject({ layers: 2, hidden: 768, heads: 12, ffn: 3072, maxPositions: 514, layerNormEps: 1e-5 });
  });

  it('reject an unknown preset, naming the valid ones', () => {
    expect(() => parseTrainConfig({ train: 'x.jsonl', encoder: { preset: 'bert-huge' } }, 'run.json')).toThrow(/run\.json: encoder\.preset: .*xlm-roberta-base/);
  });

  it('follow the tokenizer: BERT conventions for a WordPiece [PAD], the vocabulary size from the tokenizer', async () => {
    const tokenizer = TextTokenizer.fromFile((await runFixture(12, 4)).tokenizer);
    const hf = scratchConfig(resolveShape({ preset: 'mminilmv2-l6-h384' }, TRAIN_SHAPE), tokenizer, 'a test');
    expect(hf.modelType).toBe('bert');
    expect(hf.padTokenId).toBe(tokenizer.special('pad').id);
    expect(hf.encoder).toMatchObject({ vocabSize: tokenizer.vocabSize, numHiddenLayers: 6, hiddenSize: 384 });
  });
});

// Character n-gram embeddings: which n-grams a token holds, the batch inputs, and the folding into a plain word
// embedding table, which must compute exactly what the training-time sum computes.
import { describe, expect, it } from 'vitest';
import { syntheticBatch } from '../../src/bench/synthetic.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { ParamStore } from '../../src/ir/params.ts';
import { buildCharNgramTable, CHAR_NGRAM_IDS, CHAR_NGRAM_PARAM, CHAR_NGRAM_SLOTS, CHAR_NGRAM_WEIGHTS, charNgramFeeds, charNgramInputs, pieceText } from '../../src/models/char-ngrams.ts';
import { encoderConfig } from '../../src/models/config.ts';
import type { TaskHead } from '../../src/models/heads.ts';
import { initParams } from '../../src/models/init.ts';
import { encoderInputs, multiTaskClassifier } from '../../src/models/multitask.ts';
import { type Feeds, Session } from '../../src/runtime/session.ts';
import { foldedParams } from '../../src/train/char-ngrams.ts';
import { Random } from '../../src/util/random.ts';
import { checkGradient, gradCase } from '../autodiff/gradcheck.ts';

const WORDPIECE = { continuation: '##' };
const SENTENCEPIECE = { wordStart: '\u2581' };

const held = (table: ReturnType<typeof buildCharNgramTable>, id: number): number[] =>
  Array.from(table.ngrams.subarray(table.offsets[id], table.offsets[id + 1]), Number);

describe('pieceText', () => {
  it('marks word starts with < and lowercases, in either convention', () => {
    expect(pieceText('Play', WORDPIECE)).toBe('<play');
    expect(pieceText('##ING', WORDPIECE)).toBe('ing');
    expect(pieceText('\u2581Play', SENTENCEPIECE)).toBe('<play');
    expect(pieceText('ing', SENTENCEPIECE)).toBe('ing');
  });

  it('gives the bare markers no text', () => {
    expect(pieceText('##', WORDPIECE)).toBeNull();
    expect(pieceText('\u2581', SENTENCEPIECE)).toBeNull();
  });
});

describe('buildCharNgramTable', () => {
  // trigrams: play <pl pla lay · ##ing ing · playing <pl pla lay ayi yin ing · pray <pr pra ray
  const tokens = [null, 'play', '##ing', 'playing', 'pray'];
  const table = buildCharNgramTable(tokens, { min: 3, max: 3 }, WORDPIECE);

  it('keeps only the n-grams that two or more tokens hold', () => {
    expect(table.size).toBe(4); // <pl pla lay ing
    expect(held(table, 0)).toEqual([]);
    expect(held(table, 1)).toEqual([0, 1, 2]);
    expect(held(table, 2)).toEqual([3]);
    expect(held(table, 3)).toEqual([0, 1, 2, 3]);
    expect(held(table, 4)).toEqual([]); // <pr pra ray are its own
  });

  it('counts characters as code points', () => {
    const emoji = buildCharNgramTable(['\u{1F600}\u{1F600}a', '\u{1F600}\u{1F600}b'], { min: 2, max: 2 }, SENTENCEPIECE);
    expect(emoji.size).toBe(1); // 😀😀 is one bigram of two characters, shared; 😀a and 😀b are not
  });

  it('rejects a range that is not 1 ≤ min ≤ max', () => {
    expect(() => buildCharNgramTable(tokens, { min: 4, max: 3 }, WORDPIECE)).toThrow(/1 ≤ min ≤ max/);
    expect(() => buildCharNgramTable(tokens, { min: 0, max: 3 }, WORDPIECE)).toThrow(/1 ≤ min ≤ max/);
  });
});

describe('charNgramFeeds', () => {
  const table = buildCharNgramTable([null, 'play', '##ing', 'playing', 'pray'], { min: 3, max: 3 }, WORDPIECE);

  it('looks up each distinct n-gram once and averages each distinct token once', () => {
    const feeds = charNgramFeeds(table, BigInt64Array.from([1n, 3n, 1n, 4n, 0n, 0n]), 2, 3);
    const ids = Array.from(feeds[CHAR_NGRAM_IDS]?.data as BigInt64Array, Number);
    expect(ids).toEqual([0, 1, 2, 3]);
    expect(Array.from(feeds[CHAR_NGRAM_SLOTS]?.data as BigInt64Array, Number)).toEqual([0, 1, 0, 2, 3, 3]);
    expect(feeds[CHAR_NGRAM_WEIGHTS]?.shape).toEqual([4, 4]);
    const w = Array.from(feeds[CHAR_NGRAM_WEIGHTS]?.data as Float32Array);
    expect(w.slice(0, 4)).toEqual([1 / 3, 1 / 3, 1 / 3, 0].map(Math.fround)); // play
    expect(w.slice(4, 8)).toEqual([0.25, 0.25, 0.25, 0.25]); // playing
    expect(w.slice(8, 16)).toEqual(new Array(8).fill(0)); // pray and the special token hold none
  });

  it('feeds one zero-weight column when the batch holds no n-gram', () => {
    const feeds = charNgramFeeds(table, BigInt64Array.from([4n, 0n]), 1, 2);
    expect(feeds[CHAR_NGRAM_IDS]?.shape).toEqual([1]);
    expect(Array.from(feeds[CHAR_NGRAM_WEIGHTS]?.data as Float32Array)).toEqual([0, 0]);
  });
});

describe('folding the n-grams into the word embeddings', () => {
  const tasks: TaskHead[] = [{ name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] }];
  const config = encoderConfig({ vocabSize: 30, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 8 });
  const words = ['good', 'goods', 'god', 'bad', 'badly', 'sad', 'sadly', 'glad', 'gladly', 'mad'];
  const tokens = Array.from({ length: 30 }, (_, id) => (id < 3 ? null : `${words[id % words.length]}${id >= 13 ? 'x' : ''}`));
  const table = buildCharNgramTable(tokens, { min: 2, max: 4 }, WORDPIECE);

  it('gives the plain encoder, on the folded table, the logits of the training-time sum', async () => {
    const logitsGraph = (withNgrams: boolean): Graph => {
      const g = new GraphBuilder(withNgrams ? 'with-ngrams' : 'plain');
      const inputs = { ...encoderInputs(g), ...(withNgrams ? { charNgrams: charNgramInputs(g, table) } : {}) };
      const logits = multiTaskClassifier(g, config, tasks, { training: false, pooling: 'mean', headStyle: 'linear', inputs }).get('sentiment');
      if (!logits) throw new Error('no logits');
      g.output('logits', logits);
      return g.build();
    };
    const run = async (graph: Graph, feeds: Feeds, params: ParamStore): Promise<number[]> => {
      const session = await Session.create(graph, { threads: 1 });
      try {
        return Array.from((await session.run(feeds, params)).logits?.data as Float32Array);
      } finally {
        await session.release();
      }
    };
    const params = initParams(logitsGraph(true), 3, 0.5);
    expect(params.get(CHAR_NGRAM_PARAM)?.shape).toEqual([table.size, 16]);
    const { input_ids, position_ids, token_type_ids, attention_mask } = syntheticBatch(config, 4, 6, tasks, new Random(9));
    const tokens = { input_ids, position_ids, token_type_ids, attention_mask } as Feeds;

    const trained = await run(logitsGraph(true), { ...tokens, ...charNgramFeeds(table, input_ids?.data as BigInt64Array, 4, 6) }, params);
    const folded = await run(logitsGraph(false), tokens, foldedParams(params, table));
    trained.forEach((v, i) => expect(folded[i]).toBeCloseTo(v, 5));
    // The n-grams matter: the word embeddings alone give other logits.
    const alone = await run(logitsGraph(false), tokens, params);
    expect(Math.max(...trained.map((v, i) => Math.abs(v - (alone[i] as number))))).toBeGreaterThan(1e-2);
  });
});

describe('the n-gram lookup differentiates', () => {
  it('table → distinct n-grams → token means → positions, against central differences', async () => {
    const result = await checkGradient(gradCase({
      name: 'character n-gram lookup',
      ops: ['Gather', 'MatMul'],
      dtype: 'float64',
      inputs: {
        table: { shape: [6, 3] },
        ids: { shape: [4], dims: ['ngrams'], dtype: 'int64', values: [5, 0, 2, 3] },
        weights: { shape: [3, 4], dims: ['tokens', 'ngrams'], values: [0.5, 0.5, 0, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0] },
        slots: { shape: [2, 3], dims: ['batch', 'seq'], dtype: 'int64', values: [0, 1, 0, 2, 1, 1] },
      },
      outputShape: [2, 3, 3],
      rows: ['table'],
      build: (g, { table, ids, weights, slots }) => g.op.Gather(g.op.MatMul(weights, g.op.Gather(table, ids, 0)), slots, 0),
    }));
    expect(result.ok, result.message).toBe(true);
  });
});

// Skip-gram word embeddings: the trainer learns co-occurrence (tokens of a shared context end up close), is
// deterministic per seed, leaves special and unseen tokens alone; `xlmt pretrain --objective skipgram` saves a model
// directory that `xlmt train --init` takes.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { loadHfModel, mapCheckpoint } from '../../src/checkpoint/index.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { encoderInputs } from '../../src/models/multitask.ts';
import { resolvePretrainConfig } from '../../src/cli/pretrain.ts';
import { parsePretrainConfig } from '../../src/pretrain/config.ts';
import { runSkipGramPretraining } from '../../src/pretrain/skipgram-run.ts';
import { trainSkipGram } from '../../src/pretrain/skipgram.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { Random } from '../../src/util/random.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

const OPTIONS = { dim: 16, window: 3, negatives: 5, epochs: 5, lr: 0.05, subsample: 0, seed: 7 };

/** 600 texts of 8 tokens, each drawn from one of two groups of ids (1–6 or 7–12); id 0 frames every text. */
function twoTopicCorpus(): Int32Array[] {
  const rng = new Random(3);
  return Array.from({ length: 600 }, (_, i) => {
    const base = i % 2 === 0 ? 1 : 7;
    return Int32Array.from([0, ...Array.from({ length: 8 }, () => base + rng.int(6)), 0]);
  });
}

function cosine(v: Float32Array, dim: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < dim; k++) {
    const x = v[a * dim + k] as number;
    const y = v[b * dim + k] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

/** Mean cosine over pairs of distinct ids within each group, and across the groups. */
function groupSimilarity(v: Float32Array, dim: number): { within: number; across: number } {
  const within: number[] = [];
  const across: number[] = [];
  for (let a = 1; a <= 12; a++) {
    for (let b = a + 1; b <= 12; b++) (a <= 6 === b <= 6 ? within : across).push(cosine(v, dim, a, b));
  }
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return { within: mean(within), across: mean(across) };
}

describe('trainSkipGram', () => {
  it('puts tokens that share contexts close together and tokens that never meet apart', () => {
    const result = trainSkipGram(twoTopicCorpus(), 14, new Set([0]), OPTIONS);
    const { within, across } = groupSimilarity(result.vectors, OPTIONS.dim);
    // Random vectors give both ≈ 0; measured ≈ 0.9 within and ≈ −0.3 across.
    expect(within).toBeGreaterThan(0.6);
    expect(across).toBeLessThan(0.1);
    expect(result.pairs).toBeGreaterThan(600 * 8 * 5);
  });

  it('is deterministic per seed, and a shuffled corpus (no shared contexts) learns no groups', () => {
    const a = trainSkipGram(twoTopicCorpus(), 14, new Set([0]), OPTIONS);
    const b = trainSkipGram(twoTopicCorpus(), 14, new Set([0]), OPTIONS);
    expect(Buffer.compare(Buffer.from(a.vectors.buffer), Buffer.from(b.vectors.buffer))).toBe(0);
    const other = trainSkipGram(twoTopicCorpus(), 14, new Set([0]), { ...OPTIONS, seed: 8 });
    expect(Buffer.compare(Buffer.from(a.vectors.buffer), Buffer.from(other.vectors.buffer))).not.toBe(0);

    // The same tokens, each text's ids drawn from both groups: the structure the first test finds is gone.
    const rng = new Random(5);
    const mixed = twoTopicCorpus().map((t) => t.map((id) => (id === 0 ? 0 : 1 + rng.int(12))));
    const { within, across } = groupSimilarity(trainSkipGram(mixed, 14, new Set([0]), OPTIONS).vectors, OPTIONS.dim);
    expect(Math.abs(within - across)).toBeLessThan(0.15);
  });

  it('counts tokens, and leaves excluded and unseen ids as zero rows', () => {
    const result = trainSkipGram(twoTopicCorpus(), 14, new Set([0]), OPTIONS);
    expect(result.counts[0]).toBe(0); // excluded
    expect(result.counts[13]).toBe(0); // never in the corpus
    let total = 0;
    for (const c of result.counts) total += c;
    expect(total).toBe(600 * 8);
    for (const id of [0, 13]) expect(result.vectors.subarray(id * 16, id * 16 + 16).every((x) => x === 0)).toBe(true);
    expect(() => trainSkipGram([Int32Array.from([0, 0])], 14, new Set([0]), OPTIONS)).toThrow(/no tokens outside the special ones/);
  });
});

describe('xlmt pretrain --objective skipgram', () => {
  let fixture: RunFixture;
  beforeAll(async () => {
    fixture = await runFixture(); // 120 short texts in two languages, a WordPiece tokenizer (BERT layout)
  });
  afterAll(() => rmSync(fixture.dir, { recursive: true, force: true }));

  const shape = { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 };

  it('validates its options: epochs not steps, no init, lr 0.025 by default', () => {
    const base = { corpus: ['c.txt'], objective: 'skipgram' };
    expect(parsePretrainConfig(base, 'test').lr).toBe(0.025);
    expect(parsePretrainConfig({ corpus: ['c.txt'] }, 'test').lr).toBe(5e-4);
    expect(() => parsePretrainConfig({ ...base, steps: 10 }, 'test')).toThrow(/steps: skipgram counts passes over the corpus/);
    expect(() => parsePretrainConfig({ ...base, init: 'some/dir' }, 'test')).toThrow(/init: skipgram trains word embeddings for a new encoder/);
    expect(() => parsePretrainConfig({ ...base, objective: 'glove' }, 'test')).toThrow(/objective/);
    // The command line's flags land in the same fields.
    const flags = resolvePretrainConfig({ objective: 'skipgram', corpus: ['c.txt'], window: 3, negatives: 2, subsample: 0, epochs: 2 });
    expect(flags).toMatchObject({ objective: 'skipgram', window: 3, negatives: 2, subsample: 0, epochs: 2, lr: 0.025 });
  });

  it('saves a fresh encoder with trained word vectors, which xlmt train --init takes', async () => {
    const config = parsePretrainConfig({
      objective: 'skipgram', corpus: [fixture.train], tokenizer: fixture.tokenizer, out: join(fixture.dir, 'sg'),
      encoder: shape, maxLength: 16, epochs: 3, seed: 11,
    }, 'test');
    const result = await runSkipGramPretraining(config, { log: () => {} });
    expect(result.texts).toBe(120);
    expect(result.trainedRows).toBeGreaterThan(20);
    expect(result.trainedRows).toBeLessThan(result.vocabSize);
    expect(JSON.parse(readFileSync(join(config.out, 'config.json'), 'utf8'))).toMatchObject({ objective: 'skipgram', epochs: 3 });

    const model = await loadHfModel(result.model);
    const g = new GraphBuilder('fresh');
    g.output('hidden', encoder(g, model.config.encoder, encoderInputs(g), { training: false }));
    const graph = g.build();
    const fresh = initParams(graph, 11);
    const expected = graph.params.map((p) => ({ name: p.name, shape: p.shape as number[] }));
    const saved = mapCheckpoint(expected, model.tensors, { source: result.model }).params;
    const table = saved.get('embeddings.word_embeddings.weight')?.data ?? new Float32Array();
    const initial = fresh.get('embeddings.word_embeddings.weight')?.data ?? new Float32Array();
    // Every other weight is the seed's initialization; so are the rows of tokens the corpus never had.
    for (const [name, p] of fresh) {
      if (name === 'embeddings.word_embeddings.weight') continue;
      expect(saved.get(name)?.data, name).toEqual(p.data);
    }
    const tokenizer = TextTokenizer.fromFile(fixture.tokenizer);
    const pad = tokenizer.special('pad').id;
    const row = (t: Float32Array, id: number): Float32Array => t.subarray(id * 32, id * 32 + 32);
    expect(row(table, pad)).toEqual(row(initial, pad));
    const firstText = (JSON.parse(readFileSync(fixture.train, 'utf8').split('\n')[0] ?? '{}') as { text: string }).text;
    const seen = (await tokenizer.tokenize(firstText)).ids[1] ?? -1;
    expect(row(table, seen)).not.toEqual(row(initial, seen));
    // Trained rows are rescaled to the initializer's spread.
    let sumSq = 0;
    let n = 0;
    for (let id = 0; id < result.vocabSize; id++) {
      const r = row(table, id);
      if (r.every((x, k) => x === row(initial, id)[k])) continue;
      for (const x of r) sumSq += x * x;
      n += 32;
    }
    expect(n / 32).toBe(result.trainedRows);
    expect(Math.sqrt(sumSq / n)).toBeCloseTo(0.02, 3);

    const logged: string[] = [];
    const trained = await runTraining(parseTrainConfig({
      train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, init: result.model, out: join(fixture.dir, 'fine-tuned'),
      maxLength: 16, batchSize: 8, epochs: 1, lr: 3e-3, threads: 1,
    }, 'test'), { log: (l) => logged.push(l) });
    expect(trained.steps).toBeGreaterThan(0);
    expect(logged.join('\n')).toMatch(/initialized from/);
  });
});

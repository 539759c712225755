// Skip-gram with negative sampling (word2vec; Mikolov et al., 2013) over token ids: a cheap pretraining of the
// word-embedding table. Minutes of CPU learn which tokens occur in similar contexts, where masked-LM pretraining
// of the whole encoder needs far more steps than a 2-core CPU gives in an hour.
//
// Plain loops over Float32Arrays, as word2vec.c: each (center, context) pair touches 1 + negatives rows of
// `dim` floats, far too little work per call for a graph runtime to pay off. Seeded and single-threaded, so a
// seed gives the same vectors everywhere.
import { Random } from '../util/random.ts';
import { PretrainError } from './errors.ts';

export interface SkipGramOptions {
  /** Vector size: the encoder's hidden size. */
  readonly dim: number;
  /** Largest distance between a center token and a context token; each center draws its window in [1, window]. */
  readonly window: number;
  /** Noise tokens drawn (from unigram counts^0.75) per positive pair. */
  readonly negatives: number;
  /** Passes over the corpus. */
  readonly epochs: number;
  /** Starting learning rate, decayed linearly to 1e-4 of it over all passes. */
  readonly lr: number;
  /** Frequent-token subsampling threshold t: a token of frequency f is kept with probability (√(f/t) + 1)·t/f. */
  readonly subsample: number;
  readonly seed: number;
}

export const SKIPGRAM_DEFAULTS: Omit<SkipGramOptions, 'dim' | 'seed'> = { window: 5, negatives: 5, epochs: 5, lr: 0.025, subsample: 1e-4 };

export interface SkipGramResult {
  /** [vocabSize, dim] row-major: the input ("word") vectors. Rows of tokens never seen stay all zero. */
  readonly vectors: Float32Array;
  /** Occurrences of each token id in the corpus (excluded ids count 0). */
  readonly counts: Float64Array;
  /** Positive pairs trained on, over all passes. */
  readonly pairs: number;
}

export interface SkipGramProgress {
  readonly epoch: number;
  /** Tokens processed so far, over all passes. */
  readonly tokens: number;
  readonly totalTokens: number;
}

const NOISE_TABLE_MIN = 1_000_000;
const MAX_EXP = 6;

/**
 * Trains vectors for `vocabSize` token ids on `sequences` (one token-id array per text). Ids in `exclude`
 * (special tokens such as [CLS], [SEP], padding) are dropped from the texts before windows are taken.
 */
export function trainSkipGram(
  sequences: readonly Int32Array[],
  vocabSize: number,
  exclude: ReadonlySet<number>,
  options: SkipGramOptions,
  onProgress?: (p: SkipGramProgress) => void,
): SkipGramResult {
  const { dim, window, negatives, epochs, lr, subsample } = options;
  const texts = sequences.map((s) => s.filter((id) => !exclude.has(id) && id >= 0 && id < vocabSize));
  const counts = new Float64Array(vocabSize);
  let total = 0;
  for (const t of texts) for (const id of t) counts[id] = (counts[id] ?? 0) + 1;
  for (const c of counts) total += c;
  if (total === 0) {
    throw new PretrainError({ code: 'CORPUS_EMPTY', message: 'the corpus has no tokens outside the special ones for skip-gram to train on', where: { api: 'trainSkipGram' } });
  }

  const keep = keepProbabilities(counts, total, subsample);
  const noise = noiseTable(counts);
  const rng = new Random(options.seed);
  const vectors = new Float32Array(vocabSize * dim);
  for (let id = 0; id < vocabSize; id++) {
    if ((counts[id] ?? 0) === 0) continue;
    for (let k = 0; k < dim; k++) vectors[id * dim + k] = (rng.next() - 0.5) / dim;
  }
  const outputs = new Float32Array(vocabSize * dim);
  const grad = new Float32Array(dim);
  const kept = new Int32Array(texts.reduce((m, t) => Math.max(m, t.length), 0));

  const totalTokens = total * epochs;
  let seen = 0;
  let pairs = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const t of texts) {
      const rate = Math.max(lr * (1 - seen / totalTokens), lr * 1e-4);
      seen += t.length;
      let n = 0;
      for (const id of t) if (rng.next() < (keep[id] ?? 0)) kept[n++] = id;
      for (let i = 0; i < n; i++) {
        const span = 1 + rng.int(window);
        const center = kept[i] as number;
        for (let j = Math.max(0, i - span); j < Math.min(n, i + span + 1); j++) {
          if (j === i) continue;
          trainPair(vectors, outputs, grad, (kept[j] as number) * dim, center, noise, negatives, dim, rate, rng);
          pairs++;
        }
      }
    }
    onProgress?.({ epoch: epoch + 1, tokens: seen, totalTokens });
  }
  return { vectors, counts, pairs };
}

/** One positive pair and its noise tokens: logistic loss on dot products, as word2vec.c (context row in, center out). */
function trainPair(
  vectors: Float32Array, outputs: Float32Array, grad: Float32Array, row: number, center: number,
  noise: Int32Array, negatives: number, dim: number, rate: number, rng: Random,
): void {
  grad.fill(0);
  for (let d = 0; d <= negatives; d++) {
    const target = d === 0 ? center : (noise[rng.int(noise.length)] as number);
    if (d > 0 && target === center) continue;
    const out = target * dim;
    let dot = 0;
    for (let k = 0; k < dim; k++) dot += (vectors[row + k] as number) * (outputs[out + k] as number);
    const label = d === 0 ? 1 : 0;
    const g = (label - sigmoid(dot)) * rate;
    for (let k = 0; k < dim; k++) {
      grad[k] = (grad[k] as number) + g * (outputs[out + k] as number);
      outputs[out + k] = (outputs[out + k] as number) + g * (vectors[row + k] as number);
    }
  }
  for (let k = 0; k < dim; k++) vectors[row + k] = (vectors[row + k] as number) + (grad[k] as number);
}

function sigmoid(x: number): number {
  if (x > MAX_EXP) return 1;
  if (x < -MAX_EXP) return 0;
  return 1 / (1 + Math.exp(-x));
}

function keepProbabilities(counts: Float64Array, total: number, t: number): Float64Array {
  const keep = new Float64Array(counts.length);
  for (let id = 0; id < counts.length; id++) {
    const f = (counts[id] ?? 0) / total;
    keep[id] = t <= 0 || f === 0 ? 1 : Math.min(1, (Math.sqrt(f / t) + 1) * (t / f));
  }
  return keep;
}

/** Token ids repeated in proportion to count^0.75, so a uniform draw from the table is a draw from that distribution. */
function noiseTable(counts: Float64Array): Int32Array {
  const size = Math.max(NOISE_TABLE_MIN, 100 * counts.length);
  let norm = 0;
  for (const c of counts) norm += c ** 0.75;
  const table = new Int32Array(size);
  let id = -1;
  let cumulative = 0;
  for (let i = 0; i < size; i++) {
    while (i / size >= cumulative && id < counts.length - 1) {
      id++;
      cumulative += (counts[id] ?? 0) ** 0.75 / norm;
    }
    table[i] = id;
  }
  return table;
}

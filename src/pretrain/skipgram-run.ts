// `xlmt pretrain --objective skipgram`: tokenize the corpus, train skip-gram vectors for every token id, and save a
// freshly initialized encoder whose word-embedding table holds them, as a Hugging Face directory for
// `xlmt train --init`. Runs in minutes, so it is not resumable: a killed run starts again. It is no objective of
// the training loop (train/loop/): it trains no graph and takes no optimizer steps (skipgram.ts updates vectors in
// place), and its run directory holds config.json and model/ only; it shares the output and model/ with masked-LM.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../builder/builder.ts';
import type { Parameter } from '../ir/params.ts';
import type { EncoderConfig } from '../models/config.ts';
import { encoder } from '../models/encoder.ts';
import { initParams } from '../models/init.ts';
import { encoderInputs } from '../models/multitask.ts';
import { TextTokenizer } from '../tokenize/index.ts';
import { resolveShape, scratchConfig } from '../train/encoder-shape.ts';
import { checkOutputDir, claimOutputDir } from '../util/output-dir.ts';
import { PRETRAIN_SHAPE, type PretrainConfig } from './config.ts';
import { readUnlabeledCorpus } from './corpus.ts';
import { savePretrainedModel } from './model-dir.ts';
import { pretrainOutput } from './run.ts';
import { checkFit, tokenizerPath } from './setup.ts';
import { SKIPGRAM_DEFAULTS, type SkipGramProgress, trainSkipGram } from './skipgram.ts';

/** The encoder's initialization std (BERT's initializer_range); trained vectors are rescaled to it. */
const INIT_STD = 0.02;
const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';
const ENCODE_CHUNK = 2048;

export interface SkipGramEvents {
  log(line: string): void;
  onProgress?(p: SkipGramProgress): void;
}

export interface SkipGramRunResult {
  readonly out: string;
  /** The Hugging Face model directory: `xlmt train --init` takes it. */
  readonly model: string;
  readonly texts: number;
  readonly tokens: number;
  readonly pairs: number;
  /** Token ids that occur in the corpus and so got trained vectors (special tokens excluded). */
  readonly trainedRows: number;
  readonly vocabSize: number;
  readonly seconds: number;
}

export async function runSkipGramPretraining(config: PretrainConfig, events: SkipGramEvents): Promise<SkipGramRunResult> {
  const started = performance.now();
  const output = pretrainOutput(config);
  checkOutputDir(output, 'write into');
  const tokenizer = TextTokenizer.fromFile(tokenizerPath(config));
  const hf = scratchConfig(resolveShape(config.encoder, PRETRAIN_SHAPE), tokenizer, 'pretraining');
  checkFit(config, tokenizer, hf);
  const corpus = await readUnlabeledCorpus(config.corpus, { textField: config.textField });
  events.log(`corpus: ${corpus.texts.length} texts from ${config.corpus.join(', ')}${corpus.blank > 0 ? ` (${corpus.blank} blank lines skipped)` : ''}`);

  const sequences = await tokenIds(tokenizer, corpus.texts, config.maxLength);
  const specials = new Set(Object.values(tokenizer.specialTokens).flatMap((t) => (t ? [t.id] : [])));
  const epochs = config.epochs ?? SKIPGRAM_DEFAULTS.epochs;
  const dim = hf.encoder.hiddenSize;
  events.log(`skip-gram: ${epochs} passes, ${dim} dimensions, window ${config.window}, ${config.negatives} negatives, lr ${config.lr}`);
  const trained = trainSkipGram(sequences, hf.encoder.vocabSize, specials, {
    dim, window: config.window, negatives: config.negatives, epochs, lr: config.lr, subsample: config.subsample, seed: config.seed,
  }, events.onProgress);

  const params = encoderParams(hf.encoder, config.seed);
  const table = params.get(WORD_EMBEDDINGS);
  if (!table) throw new Error(`skip-gram: the encoder has no ${WORD_EMBEDDINGS}; models/encoder.ts changed its names`);
  const trainedRows = placeVectors(table.data, trained.vectors, trained.counts, dim);

  const modelDir = join(config.out, 'model');
  await claimOutputDir(output);
  writeFileSync(join(config.out, 'config.json'), `${JSON.stringify({ ...config, epochs }, null, 2)}\n`);
  await savePretrainedModel(modelDir, { hf, params, tokenizer, metadata: { producer: 'xlmt pretrain --objective skipgram' } });
  let tokens = 0;
  for (const c of trained.counts) tokens += c;
  return {
    out: config.out, model: modelDir, texts: corpus.texts.length, tokens, pairs: trained.pairs, trainedRows,
    vocabSize: hf.encoder.vocabSize, seconds: (performance.now() - started) / 1000,
  };
}

/** Each text's token ids, special tokens included (the trainer drops them), cut to `maxLength`. */
async function tokenIds(tokenizer: TextTokenizer, texts: readonly string[], maxLength: number): Promise<Int32Array[]> {
  const out: Int32Array[] = [];
  for (let start = 0; start < texts.length; start += ENCODE_CHUNK) {
    const batch = await tokenizer.encodeBatch(texts.slice(start, start + ENCODE_CHUNK), { maxLength, padding: 'longest', truncation: true });
    for (let b = 0; b < batch.batch; b++) {
      const row = batch.inputIds.subarray(b * batch.seq, b * batch.seq + (batch.lengths[b] ?? 0));
      out.push(Int32Array.from(row, Number));
    }
  }
  return out;
}

/** A from-scratch encoder's weights, initialized as `xlmt train` would (seeded). */
function encoderParams(c: EncoderConfig, seed: number): Map<string, Parameter> {
  const g = new GraphBuilder('skipgram-encoder');
  g.output('hidden', encoder(g, c, encoderInputs(g), { training: false }));
  return initParams(g.build(), seed, INIT_STD);
}

/**
 * Copies the trained rows into the embedding table, centered (the mean vector removed: skip-gram vectors share a
 * large common direction that carries frequency, not meaning) and scaled so their values have the initializer's
 * std, so the embedding LayerNorm sees the same scale of word vs position signal as at random init. Rows of
 * tokens the corpus never had keep their random values. Returns how many rows were replaced.
 */
function placeVectors(table: Float32Array, vectors: Float32Array, counts: Float64Array, dim: number): number {
  const trained: number[] = [];
  for (let id = 0; id < counts.length; id++) if ((counts[id] ?? 0) > 0) trained.push(id);
  if (trained.length === 0) return 0;
  const mean = new Float64Array(dim);
  for (const id of trained) for (let k = 0; k < dim; k++) mean[k] = (mean[k] as number) + (vectors[id * dim + k] as number) / trained.length;
  let sumSq = 0;
  for (const id of trained) for (let k = 0; k < dim; k++) sumSq += ((vectors[id * dim + k] as number) - (mean[k] as number)) ** 2;
  const scale = INIT_STD / Math.sqrt(Math.max(sumSq / (trained.length * dim), 1e-30));
  for (const id of trained) {
    for (let k = 0; k < dim; k++) table[id * dim + k] = ((vectors[id * dim + k] as number) - (mean[k] as number)) * scale;
  }
  return trained.length;
}

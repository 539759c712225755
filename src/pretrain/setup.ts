// Everything a pretraining run needs before its first step: the corpus and its held-out slice, the tokenizer, the
// encoder config, the masked-LM graphs (mlm-graph.ts) and the initial weights.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingGraph } from '../autodiff/training-graph.ts';
import { formatKeyReport, type HfModelConfig, type KeyReport, loadHfModel, mapCheckpoint, maxSequenceLength } from '../checkpoint/index.ts';
import type { Graph } from '../ir/graph.ts';
import type { Parameter } from '../ir/params.ts';
import { resolveShape, scratchConfig } from '../train/encoder-shape.ts';
import { initParams } from '../models/init.ts';
import { positionsOf, TextTokenizer, type PositionConvention } from '../tokenize/index.ts';
import { mixSeed } from '../util/random.ts';
import { PRETRAIN_SHAPE, type PretrainConfig } from './config.ts';
import { epochOrder, readUnlabeledCorpus, type UnlabeledCorpus } from './corpus.ts';
import { PretrainError } from './errors.ts';
import { maskingVocab } from './masking.ts';
import { mlmGraphs } from './mlm-graph.ts';

/** Seed stream of the held-out split, apart from the epoch orders and masks of the same seed. */
const HOLD_OUT_STREAM = 0x401d;

export interface PretrainSetup {
  /** The texts trained on: the corpus without the held-out ones, in file order. */
  readonly train: UnlabeledCorpus;
  /** Texts the masked-LM loss is evaluated on, or null when `evalLines` is 0 (or the corpus too small). */
  readonly heldOut: UnlabeledCorpus | null;
  /** sha256 of the corpus texts: a resumed run must see the same corpus. */
  readonly corpusHash: string;
  readonly tokenizer: TextTokenizer;
  readonly hf: HfModelConfig;
  readonly positions: PositionConvention;
  readonly training: TrainingGraph;
  /** The same model without dropout, returning `loss` and `mlm_correct`. */
  readonly evaluation: Graph;
  readonly params: Map<string, Parameter>;
  /** What `init` provided, when given. */
  readonly initReport: KeyReport | null;
}

export async function setupPretraining(config: PretrainConfig, log: (line: string) => void): Promise<PretrainSetup> {
  const tokenizer = TextTokenizer.fromFile(tokenizerPath(config));
  maskingVocab(tokenizer); // fails now, naming the file, when the tokenizer has no mask token
  const checkpoint = config.init ? await loadHfModel(config.init) : null;
  const hf = checkpoint ? checkpoint.config : scratchConfig(resolveShape(config.encoder, PRETRAIN_SHAPE), tokenizer, 'pretraining');
  checkFit(config, tokenizer, hf);

  const corpus = await readUnlabeledCorpus(config.corpus, { textField: config.textField });
  const { train, heldOut } = holdOut(corpus, config.evalLines, config.seed);
  log(`corpus: ${corpus.texts.length} texts from ${config.corpus.join(', ')}${corpus.blank > 0 ? ` (${corpus.blank} blank lines skipped)` : ''}` +
    `${heldOut ? `; ${heldOut.texts.length} held out for evaluation` : ''}`);

  const { training, evaluation } = mlmGraphs(hf.encoder);

  const params = initParams(training.graph, config.seed);
  let initReport: KeyReport | null = null;
  if (checkpoint && config.init) {
    const expected = training.graph.params.map((p) => ({ name: p.name, shape: p.shape as number[] }));
    // A checkpoint without a masked-LM head (a plain encoder, or one fine-tuned by xlmt train) gets a fresh one.
    const mapped = mapCheckpoint(expected, checkpoint.tensors, { source: config.init, allowMissing: [/^cls\.predictions\./] });
    for (const [name, p] of mapped.params) params.get(name)?.data.set(p.data);
    initReport = mapped.report;
    log(`initialized from ${config.init}:\n${formatKeyReport(mapped.report)}`);
  } else {
    const c = hf.encoder;
    log(`from scratch: ${hf.modelType}, ${c.numHiddenLayers} layer${c.numHiddenLayers === 1 ? '' : 's'} × ${c.hiddenSize}, ${c.numAttentionHeads} heads, FFN ${c.intermediateSize}, vocabulary ${c.vocabSize}`);
  }
  return {
    train, heldOut, corpusHash: corpusHash(corpus), tokenizer, hf, positions: positionsOf(hf),
    training, evaluation, params, initReport,
  };
}

export function tokenizerPath(config: PretrainConfig): string {
  if (config.tokenizer) return config.tokenizer;
  if (config.init) {
    const path = join(config.init, 'tokenizer.json');
    if (existsSync(path)) return path;
    throw new PretrainError({ code: 'MISSING_OPTION', where: { field: '--tokenizer' }, message: `no tokenizer given, and ${config.init} (--init) has no tokenizer.json`, hint: 'give the checkpoint\'s tokenizer with --tokenizer FILE' });
  }
  throw new PretrainError({
    code: 'MISSING_OPTION',
    where: { field: '--tokenizer' },
    message: 'no tokenizer given',
    hint: 'give --tokenizer FILE (train one with `xlmt tokenizer train`) or --init a checkpoint directory that has tokenizer.json',
  });
}


export function checkFit(config: PretrainConfig, tokenizer: TextTokenizer, hf: HfModelConfig): void {
  const model = config.init ? join(config.init, 'config.json') : 'the encoder built from scratch';
  if (tokenizer.vocabSize > hf.encoder.vocabSize) {
    throw new PretrainError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: tokenizer.source },
      message: `more tokens than the embeddings (vocab_size) of ${model}`,
      expected: `at most ${hf.encoder.vocabSize} tokens`,
      received: `${tokenizer.vocabSize} tokens`,
      hint: 'use the tokenizer the checkpoint was trained with',
    });
  }
  const longest = maxSequenceLength(hf);
  if (config.maxLength > longest) {
    throw new PretrainError({
      code: 'BAD_OPTION',
      where: { field: '--max-length' },
      message: `longer than the ${hf.encoder.maxPositionEmbeddings} position embeddings of ${model} allow`,
      expected: `at most ${longest}`,
      received: String(config.maxLength),
      hint: config.init ? 'lower --max-length' : 'lower --max-length or raise encoder.maxPositions in --config',
    });
  }
}

/** Holds out `lines` texts (at most a tenth of the corpus), chosen by the seed; both parts keep file order. */
function holdOut(corpus: UnlabeledCorpus, lines: number, seed: number): { train: UnlabeledCorpus; heldOut: UnlabeledCorpus | null } {
  const size = corpus.texts.length;
  const count = Math.min(lines, Math.floor(size / 10));
  if (count === 0) return { train: corpus, heldOut: null };
  const held = new Uint8Array(size);
  for (const i of epochOrder(size, mixSeed(seed, HOLD_OUT_STREAM), 0).subarray(0, count)) held[i] = 1;
  const part = (keep: 0 | 1): UnlabeledCorpus => {
    const indices = corpus.texts.flatMap((_, i) => (held[i] === keep ? [i] : []));
    return { texts: indices.map((i) => corpus.texts[i] as string), langs: indices.map((i) => corpus.langs[i] ?? null), blank: 0 };
  };
  return { train: part(0), heldOut: part(1) };
}

function corpusHash(corpus: UnlabeledCorpus): string {
  const hash = createHash('sha256');
  for (const text of corpus.texts) hash.update(text).update('\0');
  return hash.digest('hex').slice(0, 16);
}

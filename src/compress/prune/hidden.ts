// `xlmt prune hidden`: a model with a smaller hidden size, every weight a slice of the one it was. One set of kept
// coordinates serves the whole residual stream (embeddings, every layer's output and LayerNorms, pooler and heads:
// student-select.ts's hiddenAxes), so each layer still reads the coordinates it was trained to read.
//
// Which coordinates: by default those the model uses most, measured on texts (Minitron, Muralidharan et al. 2024,
// rank embedding channels by their LayerNorm outputs' activations): the root mean square of each coordinate of the
// hidden states after the embeddings and after every layer (each a LayerNorm's output), over the texts' real
// tokens, each layer's vector divided by its mean so that every layer weighs alike, then averaged over layers. A few
// coordinates of a trained encoder carry much larger activations than the rest (they set LayerNorm's statistics);
// ranking keeps them, where an even spread ('even', Weight Selection's uniform choice) may drop them (hidden-stats.ts).
//
// Then, by default, the maps that read the stream are refitted to what the cut model gives them (compensate.ts).
//
// The heads keep their size (hiddenSize / numAttentionHeads), so the new hidden size must hold every layer's kept
// heads: prune heads first where a layer keeps more than that.
import { XlmtError } from '../../errors/index.ts';
import type { Parameter } from '../../ir/params.ts';
import { detectFormat, loadDataset } from '../../data/index.ts';
import { readUnlabeledTexts } from '../../data/unlabeled.ts';
import { type EncoderConfig, encoderConfig, layerShapes } from '../../models/config.ts';
import type { TrainedModel } from '../../train/model-dir.ts';
import { Random } from '../../util/random.ts';
import { evenlySpaced, hiddenAxes, selectHidden } from '../distill/student-select.ts';
import { readForCompression, writeCompressed } from '../model-io.ts';
import { compensate, streamReaders } from './compensate.ts';
import { coordinateScores, cutMoments } from './hidden-stats.ts';
import { countParameters } from './layers.ts';

export const HIDDEN_METHODS = ['activation', 'even'] as const;
export type HiddenMethod = (typeof HIDDEN_METHODS)[number];
export const HIDDEN_COMPENSATIONS = ['regression', 'none'] as const;
export type HiddenCompensation = (typeof HIDDEN_COMPENSATIONS)[number];

export interface PruneHiddenOptions {
  /** The new hidden size. */
  readonly keep: number;
  /** Default 'activation'. */
  readonly method?: HiddenMethod;
  /** Default 'regression': the readers of the stream take the removed coordinates' part (compensate.ts). */
  readonly compensation?: HiddenCompensation;
  /** Texts to measure activations on ('activation' needs them): labeled CSV or TSV, JSONL with a text field, or plain text. */
  readonly data?: string;
  /** Texts measured, a seeded sample of the file (default 2000). */
  readonly samples?: number;
  readonly batchSize?: number;
  readonly threads?: number;
  readonly seed?: number;
  /** Tokens per place the compensation is fitted on, the first of the sample's (default 8192). */
  readonly maxTokens?: number;
}

export interface PruneHiddenReport {
  readonly model: string;
  readonly out: string;
  readonly method: HiddenMethod;
  readonly compensation: HiddenCompensation;
  readonly hiddenBefore: number;
  readonly hiddenAfter: number;
  /** The kept coordinates, ascending, as indices into the old hidden size. */
  readonly kept: readonly number[];
  /** Texts measured (none for 'even' without compensation). */
  readonly texts: number;
  /** Share of the summed coordinate scores the kept coordinates hold ('activation'). */
  readonly scoreKept: number | null;
  readonly parametersBefore: number;
  readonly parametersAfter: number;
}

const DEFAULTS = { method: 'activation' as HiddenMethod, compensation: 'regression' as HiddenCompensation, maxTokens: 8192, samples: 2000, batchSize: 32, seed: 42 };

export async function pruneHidden(modelPath: string, out: string, options: PruneHiddenOptions): Promise<PruneHiddenReport> {
  const o = { ...DEFAULTS, ...options };
  const { dir, model, output } = await readForCompression('prune hidden', modelPath, out, { '--model': modelPath, '--data': o.data });
  const before = model.hf.encoder;
  const config = narrowedConfig(before, o.keep);
  const measured = o.method === 'activation' || o.compensation === 'regression';
  if (measured && o.data === undefined) {
    const why = o.method === 'activation' ? 'ranking hidden coordinates by activation' : 'compensating for the removed coordinates';
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--data' }, message: `${why} needs texts to run the model on`, hint: 'give --data FILE (the training or transfer texts), or --method even --compensation none' });
  }
  const sample = measured ? await sampleTexts(o.data as string, o.samples, o.seed) : [];
  const stats = { batchSize: o.batchSize, ...(o.threads !== undefined ? { threads: o.threads } : {}) };
  const scores = o.method === 'activation' ? await coordinateScores(model, sample, stats) : null;
  const kept = scores ? topCoordinates(scores, o.keep) : evenlySpaced(before.hiddenSize, o.keep);
  const readers = streamReaders(before.numHiddenLayers, model.meta.headStyle, model.schema.tasks.map((t) => t.name));
  const full = o.compensation === 'regression'
    ? compensate(model.params, await cutMoments(model, sample, kept, { ...stats, maxTokens: o.maxTokens }), before.hiddenSize, kept, readers)
    : model.params;
  const texts = sample.length;
  const params = narrowedParams({ ...model, params: full }, kept);
  const hf = { ...model.hf, encoder: config };
  const scoreKept = scores === null ? null : share(scores, kept);
  await writeCompressed(output, { ...model, hf, params }, {
    command: 'prune hidden', from: dir, method: o.method, compensation: o.compensation, hidden: [before.hiddenSize, o.keep],
    ...(measured ? { data: o.data, samples: texts, seed: o.seed } : {}), ...(scoreKept === null ? {} : { scoreKept }), kept,
  });
  return {
    model: dir, out, method: o.method, compensation: o.compensation, hiddenBefore: before.hiddenSize, hiddenAfter: o.keep, kept, texts, scoreKept,
    parametersBefore: countParameters(model.params), parametersAfter: countParameters(params),
  };
}

/**
 * The encoder at hidden size `keep`, its heads the same size: numAttentionHeads becomes keep / headSize and each
 * layer's kept heads are renumbered from 0 (their weights are stored in order, so nothing moves). Refused before any
 * work: a size that is not smaller, or not a whole number of heads, or too small for a layer's heads.
 */
export function narrowedConfig(config: EncoderConfig, keep: number): EncoderConfig {
  const shapes = layerShapes(config);
  const headSize = config.hiddenSize / config.numAttentionHeads;
  const bad = (message: string, expected: string, hint?: string): XlmtError =>
    new XlmtError({ code: 'BAD_OPTION', where: { field: '--keep' }, message, expected, received: String(keep), ...(hint ? { hint } : {}) });
  if (!Number.isInteger(keep) || keep < 1 || keep >= config.hiddenSize) throw bad(`the model's hidden size is ${config.hiddenSize}`, `an integer in 1…${config.hiddenSize - 1}`);
  if (keep % headSize !== 0) throw bad(`the attention heads keep their size ${headSize}, so the hidden size must be a whole number of them`, `a multiple of ${headSize}`);
  const heads = keep / headSize;
  const most = Math.max(...shapes.map((s) => s.heads.length));
  const widest = shapes.findIndex((s) => s.heads.length === most);
  if (most > heads) {
    throw bad(`layer ${widest} keeps ${most} heads of size ${headSize}, and a hidden size of ${keep} holds at most ${heads}`, `at least ${most * headSize}`,
      `prune heads first: xlmt prune heads-ffn --heads ${heads} --even`);
  }
  const prunedHeads = Object.fromEntries(shapes.flatMap((s, layer) => (s.heads.length < heads ? [[layer, range(heads).slice(s.heads.length)]] : [])));
  const { prunedHeads: _heads, intermediateSizes: _sizes, ...rest } = config;
  return encoderConfig({ ...rest, hiddenSize: keep, numAttentionHeads: heads, prunedHeads, intermediateSizes: shapes.map((s) => s.intermediateSize) });
}

/** Every parameter with its hidden-size axes cut to `kept`; one that has none (an FFN bias) as it was. */
function narrowedParams(model: TrainedModel, kept: readonly number[]): Map<string, Parameter> {
  const from = model.hf.encoder.hiddenSize;
  const sliced = selectHidden(model.params, from, kept);
  const out = new Map<string, Parameter>();
  for (const [name, p] of model.params) {
    const narrowed = sliced.get(name);
    if (narrowed) out.set(name, narrowed);
    else if (hiddenAxes(name)?.length === 0) out.set(name, p);
    else throw new XlmtError({ code: 'INTERNAL', where: { api: 'prune hidden', tensor: name }, message: 'no rule says which axes of this parameter are the hidden size' });
  }
  return out;
}

/** A seeded sample of a file's texts: a CSV or TSV's text column (labels not read), else JSONL or plain text. */
async function sampleTexts(file: string, samples: number, seed: number): Promise<string[]> {
  const format = detectFormat(file);
  const texts = format === 'csv' || format === 'tsv'
    ? (await loadDataset(file, { allowUnlabeled: true, defaultLang: 'und' })).examples.map((e) => e.text)
    : (await readUnlabeledTexts([file], { purpose: 'measure activations on', flag: '--data' })).texts;
  const order = new Random(seed).shuffle(range(texts.length)).slice(0, samples);
  return order.map((i) => texts[i] as string);
}

/** The `keep` highest-scoring coordinates, ascending (ties to the lower index). */
export function topCoordinates(scores: Float64Array, keep: number): number[] {
  return range(scores.length).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b).slice(0, keep).sort((a, b) => a - b);
}

function share(scores: Float64Array, kept: readonly number[]): number {
  const total = scores.reduce((a, b) => a + b, 0);
  return total > 0 ? kept.reduce((a, i) => a + (scores[i] as number), 0) / total : 0;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

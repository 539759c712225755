// Calibration for a static int8 export: run the fp32 serving graph on unlabeled texts and derive each quantized
// layer's input range (calibrate.ts). Texts are read as any unlabeled corpus (JSONL with "text", or plain text one a
// line), tokenized with the model's own tokenizer and maximum length, and run in length-bucketed batches as serving
// runs them. Padded positions are computed by the graph but never served, so their values are left out.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readUnlabeledTexts } from '../data/unlabeled.ts';
import { XlmtError } from '../errors/index.ts';
import { lengthBuckets, paddedBatch } from '../infer/batching.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import { Session } from '../runtime/session.ts';
import { encodeExamples } from '../train/examples.ts';
import type { TrainedModel } from '../train/model-dir.ts';
import { type ActivationRange, ActivationStats, activationRange, type CalibrationMethod, ENTROPY_LEVELS, HISTOGRAM_BINS, PERCENTILE } from './calibrate.ts';
import { staticInt8Layers } from './quantize-static.ts';

/**
 * Texts calibrated on by default. Per-tensor ranges are extremes or far tails of millions of values (a few hundred
 * texts of a few dozen tokens, times the layer's width); past a few hundred texts they move little, while the
 * calibration pass costs one fp32 forward pass per text (about a minute for XLM-R-base at 256 texts here).
 */
export const DEFAULT_CALIBRATION_ROWS = 256;
const BATCH_SIZE = 32;

export interface CalibrationTexts {
  readonly file: string;
  readonly sha256: string;
  /** The first `rows` non-blank texts of the file, in file order. */
  readonly texts: readonly string[];
  /** Non-blank texts in the whole file. */
  readonly available: number;
}

/** What a static export records of its calibration (xlmt.json `info.export.int8.activations.calibration`). */
export interface CalibrationRecord {
  readonly file: string;
  readonly sha256: string;
  readonly rows: number;
  readonly available: number;
  /** Real (unpadded) tokens the statistics were taken over. */
  readonly tokens: number;
  /** Texts cut to the model's maximum length. */
  readonly truncated: number;
  readonly method: CalibrationMethod;
  /** The method's settings: percentile and bins, or entropy's bins and levels. */
  readonly settings: Readonly<Record<string, number>>;
}

/** Reads the calibration file; refused (naming the file) when it cannot be read or holds no non-blank text. */
export async function readCalibrationTexts(file: string, rows: number): Promise<CalibrationTexts> {
  const corpus = await readUnlabeledTexts([file], { purpose: 'calibrate on', flag: '--calibration' });
  const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
  return { file, sha256, texts: corpus.texts.slice(0, rows), available: corpus.texts.length };
}

export function methodSettings(method: CalibrationMethod): Record<string, number> {
  if (method === 'percentile') return { percentile: PERCENTILE, bins: HISTOGRAM_BINS };
  if (method === 'entropy') return { bins: HISTOGRAM_BINS, levels: ENTROPY_LEVELS };
  return {};
}

/**
 * The input range of every layer staticInt8Layers finds in `graph` (the fp32 serving graph), by layer name, from
 * running it on the texts.
 */
export async function calibrateRanges(model: TrainedModel, graph: Graph, params: ParamStore, calibration: CalibrationTexts, method: CalibrationMethod, threads: number): Promise<{ ranges: Map<string, ActivationRange>; record: CalibrationRecord }> {
  const encoded = await encodeExamples(model.tokenizer, { examples: calibration.texts.map((text) => ({ text })) }, model.meta.maxLength);
  const observed = await observeLayerInputs(graph, params, encoded.ids, model.meta.padId, threads);
  const ranges = new Map([...observed.stats].map(([layer, stats]) => [layer, activationRange(stats, method)]));
  const record: CalibrationRecord = {
    file: calibration.file, sha256: calibration.sha256, rows: calibration.texts.length, available: calibration.available,
    tokens: observed.tokens, truncated: encoded.truncated, method, settings: methodSettings(method),
  };
  return { ranges, record };
}

/**
 * Statistics of each quantized layer's input (by layer name; layers reading one activation share its statistics)
 * over token-id rows, run in length-bucketed batches, padding left out.
 */
export async function observeLayerInputs(graph: Graph, params: ParamStore, ids: readonly Int32Array[], padId: number, threads: number): Promise<{ stats: Map<string, ActivationStats>; tokens: number }> {
  const layers = staticInt8Layers(graph, params);
  const inputs = [...new Map(layers.map((l) => [l.input.name, l.input])).values()];
  // The same graph, each quantized layer's input an output as well.
  const observed: Graph = { ...graph, outputs: [...graph.outputs, ...inputs.filter((v) => !graph.outputs.includes(v))] };
  const stats = new Map<string, ActivationStats>(inputs.map((v) => [v.name, new ActivationStats()]));
  const session = await Session.create(observed, { params, threads });
  let tokens = 0;
  try {
    for (const rows of lengthBuckets(ids, BATCH_SIZE)) {
      const batch = rows.map((r) => ids[r] as Int32Array);
      const seq = Math.max(1, ...batch.map((r) => r.length));
      const results = await session.run(paddedBatch(batch, padId), undefined, inputs.map((v) => v.name));
      for (const v of inputs) addRows(stats.get(v.name) as ActivationStats, results[v.name]?.data, v, batch, seq);
      tokens += batch.reduce((n, r) => n + r.length, 0);
    }
  } finally {
    await session.release();
  }
  return { stats: new Map(layers.map((l) => [l.layer, stats.get(l.input.name) as ActivationStats])), tokens };
}

/** Adds the rows of real tokens of one batch's activation ([batch, seq, width] or [batch·seq, width], row-major). */
function addRows(stats: ActivationStats, data: unknown, v: Value, ids: readonly Int32Array[], seq: number): void {
  const positions = ids.length * seq;
  if (!(data instanceof Float32Array) || data.length % positions !== 0) {
    throw new XlmtError({ code: 'INTERNAL', where: { api: 'calibrateRanges', node: v.name }, message: 'a calibrated activation is not float32 with one row per token position', expected: `a multiple of ${positions} float32 values`, received: data instanceof Float32Array ? `${data.length} values` : 'no float32 output' });
  }
  const width = data.length / positions;
  ids.forEach((row, b) => stats.add(data, b * seq * width, (b * seq + row.length) * width)); // right-padded: real tokens first
}

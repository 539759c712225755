// `xlmt export`: a trained model directory → an inference directory in Hugging Face layout (config.json,
// tokenizer.json, tokenizer_config.json, tasks.json, xlmt.json with thresholds, onnx/model.onnx) that checks
// itself before it is kept.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serialize } from '../builder/serialize.ts';
import { XlmtError } from '../errors/index.ts';
import { hfModelConfig, writeHfConfig } from '../checkpoint/index.ts';
import { taskSchemaToJson } from '../data/index.ts';
import type { Graph } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import { resolveModelDir } from '../train/assess.ts';
import { MODEL_META_FILE, TASKS_FILE, TOKENIZER_FILE } from '../model-dir/index.ts';
import { loadModelDir, type TrainedModel } from '../train/model-dir.ts';
import { checkOutputDir, inputsOf, writeOutputDir, type OutputSpec } from '../util/output-dir.ts';
import { type CheckOptions, checkExport, type ExportCheck, runDevFile } from './check.ts';
import { checkedInt8Export, type Int8EmbeddingsMode, type WordTableReport } from './int8-embeddings.ts';
import { ONNX_DIR, ONNX_FILE } from '../infer/contract.ts';
import { fusedInferenceGraph } from './fused.ts';
import { quantizeDynamicInt8 } from './quantize.ts';
import type { ActivationRange, CalibrationMethod } from './calibrate.ts';
import { type CalibrationRecord, calibrateRanges, DEFAULT_CALIBRATION_ROWS, readCalibrationTexts } from './calibration.ts';
import { chooseWeightBits, type CpuFeatures, readCpuFlags } from './cpu-features.ts';
import { maxWeightCode, type WeightBits } from './int8.ts';
import { type ActivationGrid, type ActivationQuantization, DEFAULT_STATIC_FORM, quantizeStaticInt8, type StaticForm } from './quantize-static.ts';
import { quantizeWordEmbeddings } from './quantize-embeddings.ts';
import { portableTokenizerJson, TOKENIZER_CONFIG_FILE, tokenizerConfig } from './hf-tokenizer.ts';
import { type AgainstOther, checkAgainstOther } from './check.ts';
import { fakeQuantizedForward, qatRanges, qatWeightBits } from './qat-export.ts';

export type Quantization = 'none' | 'int8-per-tensor' | 'int8-per-channel';

export interface ExportOptions {
  readonly quantization: Quantization;
  /** int8 exports: whether the word-embedding table is stored as int8 rows too (int8-embeddings.ts); default 'auto'. */
  readonly int8Embeddings?: Int8EmbeddingsMode;
  /** Labeled data for the int8 check (default: the training run's dev file, when it can be found). */
  readonly checkData?: string;
  /** Examples of checkData scored by both graphs. */
  readonly checkSample: number;
  readonly threads: number;
  /** int8 exports: 7 or 8-bit weight codes; default chosen from the CPU's features (cpu-features.ts). */
  readonly weightBits?: WeightBits;
  /** The CPU flags the weight range is chosen for; default this machine's (/proc/cpuinfo), null for unknown. */
  readonly cpuFlags?: string | null;
  /** int8 exports: fixed activation ranges from calibration texts instead of ranges measured on every run. */
  readonly staticInt8?: StaticInt8Options;
}

/** The default method; why in docs/inference-graph.md ("Static int8 with calibration"). */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'percentile';

export interface StaticInt8Options {
  /** Unlabeled texts: JSONL with "text", or plain text one a line. */
  readonly calibration: string;
  /** Default DEFAULT_CALIBRATION_METHOD. */
  readonly method?: CalibrationMethod;
  /** The first `rows` texts are used; default DEFAULT_CALIBRATION_ROWS. */
  readonly rows?: number;
}

/** What an int8 export did and why (xlmt.json `info.export.int8`, and the report). */
export interface Int8Record {
  readonly weights: {
    readonly bits: WeightBits;
    /** The largest code: 127 (8 bits) or 63 (7 bits); codes are symmetric, zero point 0. */
    readonly maxCode: number;
    readonly perChannel: boolean;
    readonly reason: string;
    readonly cpu: CpuFeatures | null;
  };
  readonly activations:
    | { readonly kind: 'dynamic' }
    | { readonly kind: 'static'; readonly form: StaticForm; readonly calibration: CalibrationRecord; readonly layers: readonly ActivationQuantization[] }
    | {
      /** Static, over the ranges a quantization-aware training run learned (qat-export.ts). */
      readonly kind: 'qat';
      readonly form: StaticForm;
      /** How the training kept its ranges. */
      readonly trained: 'ema' | 'lsq';
      readonly layers: readonly ActivationQuantization[];
      /** The export against the QAT model's own fake-quantized forward pass, on the check's texts. */
      readonly againstFakeQuantized: readonly AgainstOther[];
    };
}

export interface ExportReport {
  readonly model: string;
  readonly out: string;
  readonly quantization: Quantization;
  readonly bytes: number;
  readonly opCounts: Readonly<Record<string, number>>;
  readonly check: ExportCheck;
  /** int8 exports: the word table's form and why, the size with each, and its own effect on decisions; null for fp32. */
  readonly wordEmbeddings: WordTableReport | null;
  /** int8 exports: weight bits and activation quantization, and why. */
  readonly int8?: Int8Record;
}

export interface ExportGraph {
  readonly graph: Graph;
  readonly params: ParamStore;
}

/**
 * The serving graph of a trained model: fused fp32, then for int8 its weight matrices quantized, and with
 * `int8Embeddings` its word-embedding table stored as int8 rows.
 */
export function exportGraph(model: TrainedModel, quantization: Quantization, options: Int8GraphOptions & { readonly int8Embeddings?: boolean } = {}): ExportGraph {
  const fused = fusedGraph(model);
  const weights = quantization === 'none' ? fused : int8Graph(fused, quantization, options);
  return options.int8Embeddings ? quantizeWordEmbeddings(weights.graph, weights.params) : weights;
}

export function fusedGraph(model: TrainedModel): ExportGraph {
  return fusedInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions }, model.params);
}

export interface Int8GraphOptions {
  readonly weightBits?: WeightBits;
  /** Fixed input ranges per layer (quantize-static.ts): a static export; without them, dynamic. */
  readonly ranges?: ReadonlyMap<string, ActivationRange>;
  /** How the ranges become uint8 codes (quantize-static.ts); 'int8' for a QAT model's ranges. */
  readonly grid?: ActivationGrid;
}

/** The fused graph's dense layers in int8: dynamic, or static over `ranges`. */
export function int8Graph(fused: ExportGraph, quantization: Exclude<Quantization, 'none'>, options: Int8GraphOptions = {}): ExportGraph & { readonly activations?: readonly ActivationQuantization[] } {
  const perChannel = quantization === 'int8-per-channel';
  const bits = options.weightBits === undefined ? {} : { weightBits: options.weightBits };
  return options.ranges
    ? quantizeStaticInt8(fused.graph, fused.params, { perChannel, ranges: options.ranges, ...bits, ...(options.grid ? { grid: options.grid } : {}) })
    : quantizeDynamicInt8(fused.graph, fused.params, { perChannel, ...bits });
}

export function opCounts(graph: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

export async function exportModel(modelPath: string, out: string, options: ExportOptions): Promise<ExportReport> {
  if (options.quantization === 'none' && options.int8Embeddings === 'on') {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'exportModel', field: 'int8Embeddings' }, message: 'an int8 word-embedding table is for int8 exports only', expected: "'auto' or 'off' for an fp32 export", received: "'on'" });
  }
  const int8Only = options.staticInt8 ? 'staticInt8' : options.weightBits !== undefined ? 'weightBits' : null;
  if (options.quantization === 'none' && int8Only) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'exportModel', field: int8Only }, message: `${int8Only} is for int8 exports only`, expected: "quantization 'int8-per-tensor' or 'int8-per-channel'", received: "'none'" });
  }
  const rows = options.staticInt8?.rows;
  if (rows !== undefined && !(Number.isInteger(rows) && rows > 0)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'exportModel', field: 'staticInt8.rows' }, message: 'not a number of calibration texts', expected: 'a positive integer', received: String(rows) });
  }
  const dir = resolveModelDir(modelPath);
  const output: OutputSpec = { command: 'export', path: out, inputs: inputsOf({ '--model': [modelPath, dir], '--check-data': options.checkData ?? runDevFile(dir), '--calibration': options.staticInt8?.calibration }) };
  checkOutputDir(output);
  // Read first: a calibration file that cannot be used is refused before anything slow happens.
  const calibration = options.staticInt8 ? await readCalibrationTexts(options.staticInt8.calibration, options.staticInt8.rows ?? DEFAULT_CALIBRATION_ROWS) : null;
  const model = await loadModelDir(dir);
  const checkOptions = { ...options, modelDir: dir };
  let int8: Int8Record | undefined;
  // A QAT model's int8 export is per output channel whatever was asked (qat-export.ts): the quantization written.
  let quantization = options.quantization;
  let exported: { graph: Graph; bytes: Uint8Array; check: ExportCheck; wordEmbeddings: WordTableReport | null };
  if (options.quantization === 'none') {
    exported = await fp32Export(model, checkOptions);
  } else {
    const cpu = chooseWeightBits(options.cpuFlags === undefined ? readCpuFlags() : options.cpuFlags, options.weightBits);
    const fused = fusedGraph(model);
    const method = options.staticInt8?.method ?? DEFAULT_CALIBRATION_METHOD;
    const calibrated = calibration ? await calibrateRanges(model, fused.graph, fused.params, calibration, method, options.threads) : null;
    // A QAT model is exported as it trained: its learned ranges on its int8 grid, weights per output channel.
    // --static --calibration calibrates it afresh instead.
    const qat = calibrated === null ? model.meta.quantization : undefined;
    if (qat) quantization = 'int8-per-channel';
    const choice = qat ? qatWeightBits(qat, cpu, options.weightBits) : cpu;
    const ranges = calibrated?.ranges ?? (qat ? qatRanges(fused.graph, fused.params, qat, dir) : undefined);
    const quantized = int8Graph(fused, quantization as Exclude<Quantization, 'none'>, { weightBits: choice.bits, ...(ranges ? { ranges } : {}), ...(qat ? { grid: 'int8' as const } : {}) });
    exported = await checkedInt8Export(model, quantized, options.int8Embeddings ?? 'auto', { ...checkOptions, quantization });
    const layers = quantized.activations ?? [];
    let activations: Int8Record['activations'] = { kind: 'dynamic' };
    if (calibrated) activations = { kind: 'static', form: DEFAULT_STATIC_FORM, calibration: calibrated.record, layers };
    if (qat) {
      const againstFakeQuantized = await checkAgainstOther(model, exported.bytes, fakeQuantizedForward(model, qat, options.threads), { ...checkOptions, quantization });
      activations = { kind: 'qat', form: DEFAULT_STATIC_FORM, trained: qat.activations, layers, againstFakeQuantized };
    }
    int8 = {
      weights: { bits: choice.bits, maxCode: maxWeightCode(choice.bits), perChannel: quantization === 'int8-per-channel', reason: choice.reason, cpu: choice.features },
      activations,
    };
  }
  const { graph, bytes, check, wordEmbeddings } = exported;
  const single = model.schema.tasks.length === 1 ? model.schema.tasks[0] : undefined;
  const config = hfModelConfig(model.hf.encoder, {
    modelType: model.hf.modelType,
    padTokenId: model.hf.padTokenId,
    architectures: [],
    labels: single ? single.labels : null,
    extra: { ...model.hf.extra, ...(single?.type === 'multilabel' ? { problem_type: 'multi_label_classification' } : {}) },
  });
  await writeOutputDir(output, async (tmp) => {
    await mkdir(join(tmp, ONNX_DIR), { recursive: true });
    await writeFile(join(tmp, ONNX_DIR, ONNX_FILE), bytes);
    await writeHfConfig(join(tmp, 'config.json'), config);
    // The same tokenizer, spelled so that transformers.js can run it too (Nmt → Replace); without
    // tokenizer_config.json, its pipeline() loads the model but no tokenizer.
    await writeFile(join(tmp, TOKENIZER_FILE), portableTokenizerJson(model.tokenizer.json));
    await writeFile(join(tmp, TOKENIZER_CONFIG_FILE), `${JSON.stringify(tokenizerConfig(model.tokenizer, model.meta.maxLength), null, 2)}\n`);
    await writeFile(join(tmp, TASKS_FILE), `${JSON.stringify(taskSchemaToJson(model.schema), null, 2)}\n`);
    const info = { ...model.meta.info, export: { from: dir, quantization, check, ...(int8 ? { int8 } : {}), ...(wordEmbeddings ? { wordEmbeddings } : {}) } };
    await writeFile(join(tmp, MODEL_META_FILE), `${JSON.stringify({ ...model.meta, info }, null, 2)}\n`);
  });
  return { model: dir, out, quantization, bytes: bytes.length, opCounts: opCounts(graph), check, wordEmbeddings, ...(int8 ? { int8 } : {}) };
}

async function fp32Export(model: TrainedModel, options: CheckOptions): Promise<{ graph: Graph; bytes: Uint8Array; check: ExportCheck; wordEmbeddings: null }> {
  const { graph, params } = exportGraph(model, 'none');
  const bytes = serialize(graph, { params, producer: 'xlmt export' });
  return { graph, bytes, check: await checkExport(model, bytes, options), wordEmbeddings: null };
}

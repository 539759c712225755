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
import { quantizeWordEmbeddings } from './quantize-embeddings.ts';
import { portableTokenizerJson, TOKENIZER_CONFIG_FILE, tokenizerConfig } from './hf-tokenizer.ts';

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
}

export interface ExportGraph {
  readonly graph: Graph;
  readonly params: ParamStore;
}

/**
 * The serving graph of a trained model: fused fp32, then for int8 its weight matrices quantized, and with
 * `int8Embeddings` its word-embedding table stored as int8 rows.
 */
export function exportGraph(model: TrainedModel, quantization: Quantization, options: { readonly int8Embeddings?: boolean } = {}): ExportGraph {
  const fused = fusedInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions }, model.params);
  const weights = quantization === 'none' ? fused : quantizeDynamicInt8(fused.graph, fused.params, { perChannel: quantization === 'int8-per-channel' });
  return options.int8Embeddings ? quantizeWordEmbeddings(weights.graph, weights.params) : weights;
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
  const dir = resolveModelDir(modelPath);
  const output: OutputSpec = { command: 'export', path: out, inputs: inputsOf({ '--model': [modelPath, dir], '--check-data': options.checkData ?? runDevFile(dir) }) };
  checkOutputDir(output);
  const model = await loadModelDir(dir);
  const checkOptions = { ...options, modelDir: dir };
  const { graph, bytes, check, wordEmbeddings } = options.quantization === 'none'
    ? await fp32Export(model, checkOptions)
    : await checkedInt8Export(model, exportGraph(model, options.quantization), options.int8Embeddings ?? 'auto', checkOptions);
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
    const info = { ...model.meta.info, export: { from: dir, quantization: options.quantization, check, ...(wordEmbeddings ? { wordEmbeddings } : {}) } };
    await writeFile(join(tmp, MODEL_META_FILE), `${JSON.stringify({ ...model.meta, info }, null, 2)}\n`);
  });
  return { model: dir, out, quantization: options.quantization, bytes: bytes.length, opCounts: opCounts(graph), check, wordEmbeddings };
}

async function fp32Export(model: TrainedModel, options: CheckOptions): Promise<{ graph: Graph; bytes: Uint8Array; check: ExportCheck; wordEmbeddings: null }> {
  const { graph, params } = exportGraph(model, 'none');
  const bytes = serialize(graph, { params, producer: 'xlmt export' });
  return { graph, bytes, check: await checkExport(model, bytes, options), wordEmbeddings: null };
}

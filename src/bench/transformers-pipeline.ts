// @huggingface/transformers' text-classification pipeline on an xlmt export directory, offline: the other side of
// `xlmt bench compare`. It is a dev dependency, so it is imported when a benchmark asks for it, never at start-up.
import { basename, dirname, resolve } from 'node:path';
import { XlmtError } from '../errors/index.ts';

export interface PipelineLabel {
  readonly label: string;
  /** The label's probability (softmax of `logits`, computed by the pipeline). */
  readonly score: number;
}

export interface TransformersClassifier {
  /** transformers.js's version. */
  readonly version: string;
  /** The top label per text, in order: one pipeline call with all of `texts` (one padded batch). */
  classify(texts: readonly string[]): Promise<PipelineLabel[]>;
  /** Tokens per text as the pipeline's tokenizer encodes one call's texts (its options: pad to longest, cut). */
  tokenCounts(texts: readonly string[]): number[];
  release(): Promise<void>;
}

/**
 * The pipeline for the export in `dir`, with ONNX Runtime on `threads` intra-op threads. transformers.js hands
 * `session_options` to `InferenceSession.create` unchanged (src/models/session.js), so these are the settings
 * OnnxClassifier's ModelFile uses: ONNX Runtime's defaults, spelled out.
 */
export async function loadTransformersPipeline(dir: string, threads: number): Promise<TransformersClassifier> {
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (e) {
    throw new XlmtError(
      { code: 'INTERNAL', message: `cannot load @huggingface/transformers: ${(e as Error).message}`, hint: 'It is a dev dependency of xlmt: run npm install in the xlmt checkout' },
      { cause: e },
    );
  }
  const { env, pipeline } = transformers;
  // Local files only. transformers.js reads a local model as <localModelPath>/<model id>/…; its settings are global.
  const path = resolve(dir);
  env.allowRemoteModels = false;
  env.localModelPath = dirname(path);
  const pipe = await pipeline('text-classification', basename(path), {
    local_files_only: true,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' },
  });
  return {
    version: env.version,
    async classify(texts) {
      if (texts.length === 0) return [];
      const out = await pipe([...texts]);
      return out.map(({ label, score }) => ({ label, score }));
    },
    tokenCounts(texts) {
      if (texts.length === 0) return [];
      // The options TextClassificationPipeline._call passes (src/pipelines/text-classification.js).
      const { attention_mask: mask } = pipe.tokenizer([...texts], { padding: true, truncation: true });
      const [rows = 0, seq = 0] = mask.dims;
      const data = mask.data as BigInt64Array;
      return Array.from({ length: rows }, (_, r) => data.subarray(r * seq, (r + 1) * seq).reduce((sum, x) => sum + Number(x), 0));
    },
    async release() {
      await pipe.dispose();
    },
  };
}

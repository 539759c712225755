// A serialized ONNX model (a file on disk or bytes) run by ONNX Runtime with all weights inside: what serving,
// batch scoring and the benchmarks use. Feeds and results use the project's TensorData.
import { XlmtError } from '../errors/index.ts';
import ort from './ort.ts';
import type { DType, TensorArray } from '../ir/dtype.ts';
import type { TensorData } from '../ir/tensor.ts';

export interface ModelFileOptions {
  /** Intra-op threads; default: ONNX Runtime's choice (all cores). */
  readonly threads?: number;
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export class ModelFile {
  private constructor(
    /** The file path, or a description of the bytes: every error names it. */
    readonly source: string,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(model: string | Uint8Array, options: ModelFileOptions = {}, source = typeof model === 'string' ? model : 'ONNX bytes'): Promise<ModelFile> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.optimization ?? 'all',
      executionMode: 'sequential',
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    };
    try {
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
      return new ModelFile(source, session);
    } catch (e) {
      throw new XlmtError(
        { code: 'BAD_MODEL', where: { file: source }, message: `ONNX Runtime cannot load the model: ${(e as Error).message}`, hint: 'the file is damaged or not an ONNX model xlmt wrote: export it again' },
        { cause: e },
      );
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Readonly<Record<string, TensorData>>, fetch?: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = feeds[name];
      if (!t) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { file: this.source, api: 'ModelFile.run' }, message: `no feed for input ${name}`, expected: `feeds ${this.session.inputNames.join(', ')}`, received: Object.keys(feeds).join(', ') || 'none' });
      ortFeeds[name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]);
    }
    const out = fetch ? await this.session.run(ortFeeds, [...fetch]) : await this.session.run(ortFeeds);
    const results: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(out)) results[name] = { dtype: t.type as DType, shape: t.dims.map(Number), data: t.data as TensorArray };
    return results;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

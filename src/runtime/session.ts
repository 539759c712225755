// The only module that talks to ONNX Runtime: compiles a graph into a reusable session and runs it.
import { XlmtError } from '../errors/index.ts';
import ort from './ort.ts';
import type { DType, TensorArray } from '../ir/dtype.ts';
import type { Graph } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import type { TensorData } from '../ir/tensor.ts';
import { serialize } from '../builder/serialize.ts';

export interface RuntimeOptions {
  /** Intra-op threads; default: ONNX Runtime's choice (all cores). */
  readonly threads?: number;
  /** Graph optimization level; default 'all'. */
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * ONNX Runtime's CPU memory arena (default on). Off returns freed activations to the system, lowering peak RSS
   * when shapes vary between runs.
   */
  readonly memArena?: boolean;
  /** Write ONNX Runtime's per-node profile (JSON) with this file prefix. */
  readonly profilePrefix?: string;
}

/** Options of Session.create: runtime settings, and parameter values to embed in the model (inference). */
export interface SessionOptions extends RuntimeOptions {
  /**
   * Serialize the graph with these parameters as initializers, so runs need no parameter feeds and ONNX Runtime can
   * fold and prepack the weights (what an exported model gets). Default: parameters are fed on every run.
   */
  readonly params?: ParamStore;
}

export type Feeds = Readonly<Record<string, TensorData>>;
export type Results = Record<string, TensorData>;

function toOrt(name: string, t: TensorData): ort.Tensor {
  const shape = [...t.shape];
  if (t.dtype === 'float16') return new ort.Tensor('float16', t.data as Uint16Array, shape);
  if (t.dtype === 'bool') return new ort.Tensor('bool', t.data as Uint8Array, shape);
  try {
    return new ort.Tensor(t.dtype, t.data as Exclude<TensorArray, Uint16Array>, shape);
  } catch (e) {
    throw new XlmtError(
      { code: 'BAD_ARGUMENT', where: { node: name, api: 'Session.run' }, message: `cannot make a ${t.dtype} tensor of shape [${shape.join(', ')}] from ${t.data.length} values: ${(e as Error).message}` },
      { cause: e },
    );
  }
}

function fromOrt(t: ort.Tensor): TensorData {
  return { dtype: t.type as DType, shape: t.dims.map(Number), data: t.data as TensorArray };
}

export class Session {
  private constructor(
    readonly graph: Graph,
    private readonly session: ort.InferenceSession,
    /** Parameters are initializers inside the model: runs feed graph inputs only. */
    private readonly embedded: boolean,
  ) {}

  static async create(graph: Graph, options: SessionOptions = {}): Promise<Session> {
    const bytes = options.params ? serialize(graph, { params: options.params }) : serialize(graph);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.optimization ?? 'all',
      executionMode: 'sequential',
      enableCpuMemArena: options.memArena ?? true,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
    };
    try {
      return new Session(graph, await ort.InferenceSession.create(bytes, sessionOptions), options.params !== undefined);
    } catch (e) {
      // xlmt built this graph itself: ONNX Runtime refusing it is a bug in a builder or a pass.
      throw new XlmtError({ code: 'INTERNAL', where: { api: 'Session.create', node: graph.name }, message: `ONNX Runtime rejected the graph: ${(e as Error).message}` }, { cause: e });
    }
  }

  /**
   * Run with graph inputs and parameters fed by name (no parameters when they were embedded at creation); returns
   * every graph output (or the ones named).
   */
  async run(feeds: Feeds, params?: ParamStore, fetch?: readonly string[]): Promise<Results> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const input of this.graph.inputs) {
      const t = feeds[input.name];
      const where = { api: 'Session.run', node: input.name };
      if (!t) throw new XlmtError({ code: 'BAD_ARGUMENT', where, message: `no feed for graph ${this.graph.name}'s input`, expected: `${input.dtype} [${input.shape.join(', ')}]` });
      if (t.dtype !== input.dtype) throw new XlmtError({ code: 'BAD_ARGUMENT', where, message: `wrong dtype for graph ${this.graph.name}'s input`, expected: input.dtype, received: t.dtype });
      ortFeeds[input.name] = toOrt(input.name, t);
    }
    for (const p of this.embedded ? [] : this.graph.params) {
      const stored = params?.get(p.name);
      if (!stored) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'Session.run', tensor: p.name }, message: `no value for a parameter of graph ${this.graph.name}` });
      ortFeeds[p.name] = new ort.Tensor('float32', stored.data, [...stored.shape]);
    }
    const out = fetch ? await this.session.run(ortFeeds, [...fetch]) : await this.session.run(ortFeeds);
    const results: Results = {};
    for (const [name, t] of Object.entries(out)) results[name] = fromOrt(t);
    return results;
  }

  /** Stop profiling; ONNX Runtime writes `<profilePrefix>_<date>.json`. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

// One training step = one ONNX Runtime run of the forward+backward graph, parameters fed by name.
import type { TrainingGraph } from '../autodiff/training-graph.ts';
import { XlmtError } from '../errors/index.ts';
import type { Gradient, ParamStore } from '../ir/params.ts';
import type { TensorData } from '../ir/tensor.ts';
import { type Feeds, type Results, type RuntimeOptions, Session } from './session.ts';

export interface StepResult {
  readonly loss: number;
  /** The extra forward outputs, by name. */
  readonly outputs: Results;
  readonly gradients: ReadonlyMap<string, Gradient>;
}

function floats(name: string, t: TensorData | undefined): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw stepFailure(name, 'missing or not float32');
  return t.data;
}

/** The training graph xlmt built gave an output it should not: a bug, not the user's data. */
function stepFailure(output: string, problem: string): XlmtError {
  return new XlmtError({ code: 'INTERNAL', where: { api: 'TrainingSession.step', node: output }, message: `graph output ${problem}` });
}

export class TrainingSession {
  private constructor(
    readonly training: TrainingGraph,
    private readonly session: Session,
  ) {}

  static async create(training: TrainingGraph, options: RuntimeOptions = {}): Promise<TrainingSession> {
    return new TrainingSession(training, await Session.create(training.graph, options));
  }

  async step(feeds: Feeds, params: ParamStore): Promise<StepResult> {
    const results = await this.session.run(feeds, params);
    const loss = results[this.training.loss];
    if (!loss || loss.data.length !== 1) throw stepFailure(this.training.loss, 'the loss is missing or not a scalar');
    const gradients = new Map<string, Gradient>();
    for (const [param, out] of this.training.gradients) {
      if (out.kind === 'dense') {
        gradients.set(param, { kind: 'dense', data: floats(out.name, results[out.name]) });
      } else {
        const indices = results[out.indices]?.data;
        if (!(indices instanceof BigInt64Array)) throw stepFailure(out.indices, 'missing or not int64');
        gradients.set(param, { kind: 'rows', indices, values: floats(out.values, results[out.values]) });
      }
    }
    const outputs: Results = {};
    for (const name of this.training.outputs) {
      const t = results[name];
      if (t) outputs[name] = t;
    }
    return { loss: Number(loss.data[0]), outputs, gradients };
  }

  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

// Inference over a tokenized dataset: class probabilities per task from a forward-only graph; during
// quantization-aware training, the graph with the training run's fake int8 (the model int8 will serve).
import { GraphBuilder } from '../builder/builder.ts';
import { type QatOptions, quantizationAwareGraph } from '../compress/quantize/index.ts';
import type { Task } from '../data/index.ts';
import type { ParamStore } from '../ir/params.ts';
import type { EncoderConfig } from '../models/config.ts';
import type { HeadStyle } from '../model-dir/index.ts';
import { multiTaskClassifier, type Pooling } from '../models/multitask.ts';
import { type Feeds, Session } from '../runtime/session.ts';
import type { EncodedExamples } from './examples.ts';
import { tokenFeeds, type TokenBatchOptions } from './feeds.ts';

export const probsOutput = (task: string): string => `probs:${task}`;

export interface PredictorOptions extends TokenBatchOptions {
  readonly pooling: Pooling;
  readonly headStyle: HeadStyle;
  readonly threads: number;
  readonly batchSize: number;
  /**
   * Fake-quantize as a QAT run trains: the pass's options, and for 'ema' the current input ranges, fed with every
   * batch (the 'lsq' steps are parameters, in the ParamStore predicted with).
   */
  readonly quantized?: { readonly options: QatOptions; readonly ranges?: () => Feeds };
}

/** Softmax (multiclass) or sigmoid (multilabel) probabilities per task; one session, reused. */
export class Predictor {
  private constructor(
    private readonly session: Session,
    private readonly tasks: readonly Task[],
    private readonly options: PredictorOptions,
  ) {}

  static async create(config: EncoderConfig, tasks: readonly Task[], options: PredictorOptions): Promise<Predictor> {
    const source = new GraphBuilder('predict');
    const logits = multiTaskClassifier(source, config, tasks, { training: false, pooling: options.pooling, headStyle: options.headStyle });
    const [first] = logits.values();
    if (!first) throw new Error('internal: a predictor without tasks');
    // The pass copies the graph whole and hands back any value's copy: the first logits stand in for its "loss".
    const pass = options.quantized ? quantizationAwareGraph(source.build(), first, options.quantized.options) : undefined;
    const g = pass?.g ?? source;
    for (const task of tasks) {
      const built = logits.get(task.name);
      if (!built) throw new Error(`internal: no logits for task ${task.name}`);
      const z = pass ? pass.copyOf(built) : built;
      g.output(probsOutput(task.name), task.type === 'multiclass' ? g.op.Softmax(z, { axis: -1 }) : g.op.Sigmoid(z));
    }
    return new Predictor(await Session.create(g.build(), { threads: options.threads }), tasks, options);
  }

  /**
   * Probabilities [indices.length, labels] per task, rows in the order of `indices`. Examples run in batches of
   * similar length (sorted), so short texts do not pay for long ones.
   */
  async predict(encoded: EncodedExamples, indices: readonly number[], params: ParamStore): Promise<Map<string, Float32Array>> {
    const out = new Map(this.tasks.map((t) => [t.name, new Float32Array(indices.length * t.labels.length)]));
    const order = indices.map((_, row) => row).sort((a, b) => (encoded.ids[indices[a] as number] as Int32Array).length - (encoded.ids[indices[b] as number] as Int32Array).length);
    for (let start = 0; start < order.length; start += this.options.batchSize) {
      const rows = order.slice(start, start + this.options.batchSize);
      const feeds = tokenFeeds(encoded, rows.map((r) => indices[r] as number), this.options);
      const results = await this.session.run({ ...feeds, ...this.options.quantized?.ranges?.() }, params);
      for (const task of this.tasks) {
        const probs = results[probsOutput(task.name)]?.data as Float32Array;
        const width = task.labels.length;
        const target = out.get(task.name) as Float32Array;
        rows.forEach((row, b) => target.set(probs.subarray(b * width, (b + 1) * width), row * width));
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

// Importance of every attention head and FFN neuron, per task: |∂L_task/∂mask| of the unit masks (Michel et al.
// 2019; see models/unit-masks.ts), summed over batches of the task's labeled examples. One graph computes the
// masks' gradients and the logits; masks at 0 stand for units already pruned, so later rounds of iterative
// pruning score the model as it will be.
import { GraphBuilder } from '../../builder/builder.ts';
import { trainingGraph } from '../../autodiff/training-graph.ts';
import type { Example, Task } from '../../data/index.ts';
import type { Parameter, ParamStore } from '../../ir/params.ts';
import { layerShapes } from '../../models/config.ts';
import { labelMaskInput, multiTaskClassifier, multiTaskLoss } from '../../models/multitask.ts';
import { headMaskName, neuronMaskName } from '../../models/unit-masks.ts';
import type { Feeds, Results } from '../../runtime/session.ts';
import { TrainingSession } from '../../runtime/training-session.ts';
import type { EncodedExamples } from '../../train/examples.ts';
import { labelFeeds, tokenFeeds } from '../../train/feeds.ts';
import type { TrainedModel } from '../../train/model-dir.ts';

/** One score per unit, per layer, indexed by the unit's current position in its layer. */
export interface UnitScores {
  readonly heads: readonly Float64Array[];
  readonly neurons: readonly Float64Array[];
}

/** 1 for a unit kept, 0 for one pruned, per layer. */
export interface UnitMasks {
  readonly heads: readonly Float32Array[];
  readonly neurons: readonly Float32Array[];
}

export const logitsOutput = (task: string): string => `logits:${task}`;

export function fullMasks(model: TrainedModel): UnitMasks {
  const shapes = layerShapes(model.hf.encoder);
  return { heads: shapes.map((s) => new Float32Array(s.heads.length).fill(1)), neurons: shapes.map((s) => new Float32Array(s.intermediateSize).fill(1)) };
}

/** A task's batches: the examples labeled for it, each batch fed with that task's labels alone. */
export interface TaskBatches {
  readonly task: string;
  readonly feeds: readonly Feeds[];
}

export function taskBatches(model: TrainedModel, examples: readonly Example[], encoded: EncodedExamples, task: Task, chosen: readonly number[], batchSize: number): TaskBatches {
  const tasks = model.schema.tasks;
  // Similar lengths together: less padding, and the sum over batches does not depend on the order.
  const ordered = [...chosen].sort((a, b) => (encoded.ids[a] as Int32Array).length - (encoded.ids[b] as Int32Array).length);
  const feeds: Feeds[] = [];
  for (let start = 0; start < ordered.length; start += batchSize) {
    const indices = ordered.slice(start, start + batchSize);
    const labels = labelFeeds(examples, indices, tasks);
    for (const other of tasks) {
      if (other.name !== task.name) (labels[labelMaskInput(other.name)]?.data as Float32Array).fill(0);
    }
    feeds.push({ ...tokenFeeds(encoded, indices, { padId: model.meta.padId, positions: model.meta.positions }), ...labels });
  }
  return { task: task.name, feeds };
}

export class ImportanceProbe {
  private constructor(
    private readonly model: TrainedModel,
    private readonly session: TrainingSession,
  ) {}

  static async create(model: TrainedModel, threads: number): Promise<ImportanceProbe> {
    const g = new GraphBuilder('importance');
    const { tasks } = model.schema;
    const logits = multiTaskClassifier(g, model.hf.encoder, tasks, { training: false, unitMasks: true, pooling: model.meta.pooling, headStyle: model.meta.headStyle });
    const loss = multiTaskLoss(g, tasks, logits);
    const masks = g.build().params.filter((p) => p.name.endsWith('_mask'));
    const outputs = Object.fromEntries(tasks.map((t) => [logitsOutput(t.name), logits.get(t.name) as NonNullable<ReturnType<typeof logits.get>>]));
    const training = trainingGraph(g, { loss, params: masks, outputs });
    return new ImportanceProbe(model, await TrainingSession.create(training, { threads }));
  }

  /** The model's parameters with the masks set. */
  private params(masks: UnitMasks): ParamStore {
    const store = new Map<string, Parameter>(this.model.params);
    masks.heads.forEach((m, i) => store.set(headMaskName(i), { name: headMaskName(i), shape: [m.length], data: m }));
    masks.neurons.forEach((m, i) => store.set(neuronMaskName(i), { name: neuronMaskName(i), shape: [m.length], data: m }));
    return store;
  }

  /** Σ over each task's batches of |∂L/∂mask|, per task. */
  async scores(masks: UnitMasks, batches: readonly TaskBatches[], onBatch: () => void = () => {}): Promise<Map<string, UnitScores>> {
    const params = this.params(masks);
    const out = new Map<string, UnitScores>();
    for (const { task, feeds } of batches) {
      const heads = masks.heads.map((m) => new Float64Array(m.length));
      const neurons = masks.neurons.map((m) => new Float64Array(m.length));
      for (const f of feeds) {
        const { gradients } = await this.session.step(f, params);
        const add = (into: Float64Array[], name: (i: number) => string): void => {
          into.forEach((acc, i) => {
            const g = gradients.get(name(i));
            if (g?.kind !== 'dense') throw new Error(`no dense gradient for ${name(i)}`);
            for (let u = 0; u < acc.length; u++) acc[u] = (acc[u] as number) + Math.abs(g.data[u] as number);
          });
        };
        add(heads, headMaskName);
        add(neurons, neuronMaskName);
        onBatch();
      }
      out.set(task, { heads, neurons });
    }
    return out;
  }

  /** The masked model's logits on a batch: what the cut model must reproduce. */
  async logits(masks: UnitMasks, feeds: Feeds): Promise<Results> {
    return (await this.session.step(feeds, this.params(masks))).outputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

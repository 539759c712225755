// Training with online teachers: train/'s classification objective with Eq. 2 as its loss (distillationLoss over
// the same logits) and, added to every micro-batch as it is planned, the teachers' logits for each of its rows.
// Every row of a batch (a gold example or a teacher file's row) gets the teachers' targets for every task they
// cover, so the student learns a task it has no gold label for from them. The run's identity adds the teachers'
// fingerprints to its settings, so a resumed run refuses teachers whose outputs could differ.
// With intermediate-layer transfer (intermediate.ts) the loss adds the weighted terms on the student's states,
// the one teacher's states are fed beside its logits, and the model written leaves the projections out.
import { createHash } from 'node:crypto';
import { GraphBuilder } from '../../builder/builder.ts';
import type { Task } from '../../data/index.ts';
import { XlmtError } from '../../errors/index.ts';
import type { Feeds, Results } from '../../runtime/session.ts';
import { type BatchInputs, classificationObjective, type RowBatch, type RunEvents } from '../../train/classification.ts';
import type { TrainConfig } from '../../train/config.ts';
import { classifierForward, classifierLogits, type ClassifierGraph } from '../../train/graph.ts';
import type { EncoderConfig } from '../../models/config.ts';
import { HIDDEN_MSE_OUTPUT, intermediateBatch, type IntermediatePlan, intermediateTerms, RELATION_KL_OUTPUT } from './intermediate.ts';
import { isDistillationParam, teacherLogitsInput, teacherMaskInput } from './names.ts';
import type { Teacher } from './teacher.ts';
import type { RunIdentity } from '../../train/loop/index.ts';
import type { ClassifierObjective } from '../../train/run.ts';
import type { RunSetup } from '../../train/setup.ts';
import { trainableParams } from '../../train/trainable.ts';
import { distillationLoss, type DistillationOptions } from './kd-loss.ts';
import type { TeacherStepMeter } from './teacher-cost.ts';
import { tokenizerHash } from './teacher-encoding.ts';
import type { TeacherBatch } from './teacher.ts';
import type { TeacherMap } from './teacher-map.ts';

/**
 * Eq. 2 over the classifier's logits; with α = 0 it declares no teacher input and is the gold loss alone. With
 * `intermediate` (called with the student's encoder once it is known), Eq. 2 + W_h·MSE + W_r·relation KL, each
 * term unweighted among the outputs; without it the graph is Eq. 2's alone, node for node.
 */
export function distillationGraph(options: DistillationOptions, intermediate?: (student: EncoderConfig) => IntermediatePlan): ClassifierGraph {
  return (parts) => {
    const g = new GraphBuilder('train');
    if (!intermediate) {
      const loss = distillationLoss(g, parts.tasks, classifierLogits(g, parts), options);
      return { g, loss, params: trainableParams(g, parts.trainable).map((v) => v.name) };
    }
    const forward = classifierForward(g, parts);
    const eq2 = distillationLoss(g, parts.tasks, forward.logits, options);
    const plan = intermediate(parts.hf.encoder);
    const terms = intermediateTerms(g, { config: parts.hf.encoder, states: forward.states }, forward.inputs.attentionMask, plan);
    // The projections serve the training only: they train whatever `trainable` freezes of the model.
    const trained = trainableParams(g, parts.trainable);
    const projections = g.build().params.filter((v) => isDistillationParam(v.name) && !trained.includes(v));
    return { g, loss: g.op.Add(eq2, terms.loss), outputs: terms.outputs, params: [...trained, ...projections].map((v) => v.name) };
  };
}

/** What the feeds need of a teacher map: the (averaged) logits of the tasks it covers. */
export type TeacherLogits = Pick<TeacherMap, 'logits'>;

/**
 * `teacher_logits:<task>` [rows, labels] and `teacher_mask:<task>` [rows] for every task of the student: the
 * teachers' logits with mask 1 on every row for a task they cover, finite zeros with mask 0 for one they do not.
 * The teachers read the student's ids where those are their own encoding (teacher-encoding.ts).
 */
export async function teacherFeeds(teachers: TeacherLogits, tasks: readonly Task[], batch: RowBatch, studentTokenizer: string): Promise<Feeds> {
  const asked: TeacherBatch = { texts: batch.texts, student: { ids: batch.ids, tokenizerHash: studentTokenizer, maxLength: batch.maxLength } };
  const logits = await teachers.logits(asked);
  const rows = batch.texts.length;
  const feeds: Record<string, Feeds[string]> = {};
  for (const task of tasks) {
    const width = task.labels.length;
    const taught = logits.get(task.name);
    feeds[teacherLogitsInput(task.name)] = { dtype: 'float32', shape: [rows, width], data: taught ?? new Float32Array(rows * width) };
    feeds[teacherMaskInput(task.name)] = { dtype: 'float32', shape: [rows], data: new Float32Array(rows).fill(taught ? 1 : 0) };
  }
  return feeds;
}

/** Hash of the teachers' fingerprints in the order first assigned: the run's data beside its settings. */
export function teachersFingerprint(teachers: readonly { readonly fingerprint: string }[]): string {
  return createHash('sha256').update(JSON.stringify(teachers.map((t) => t.fingerprint))).digest('hex').slice(0, 16);
}

/** The teachers' part of a run fingerprint (`settings:teachers`); undefined for a run without online teachers. */
const teachersPart = (fingerprint: string): string | undefined => fingerprint.split(':')[1];

function identityWithTeachers(base: RunIdentity<TrainConfig>, teachers: string): RunIdentity<TrainConfig> {
  return {
    ...base,
    data: teachers,
    refusal: (before, saved, current) => {
      const began = teachersPart(saved);
      if (began === undefined || began === teachers) return base.refusal(before, saved, current);
      return new XlmtError({
        code: 'RUN_SETTINGS_CHANGED', where: { file: base.config.out, field: '--teacher-model' },
        message: 'holds an unfinished run distilled from other teachers: their weights, tokenizer, tasks or cut differ',
        expected: `the teachers the run began with (fingerprint ${began})`, received: `teachers with fingerprint ${teachers}`,
        hint: 'resume with the teachers the run began with, or choose another --out',
      });
    },
  };
}

export interface OnlineTeachers {
  /** The map checked against the student's tasks. */
  readonly map: TeacherLogits & Pick<TeacherMap, 'byTask'>;
  /** With intermediate-layer transfer: its one teacher and plan (the graph's). */
  readonly intermediate?: { readonly teacher: Teacher; readonly plan: IntermediatePlan };
  /** Every teacher once, for the run's fingerprint. */
  readonly fingerprints: readonly { readonly fingerprint: string }[];
  /** Times their forward passes per step. */
  readonly meter: TeacherStepMeter;
  /** Called at every epoch's end and when the run ends: saves what the teachers' caches learned. */
  readonly flush?: () => Promise<void>;
}

/**
 * The classification objective of `setup` (whose graph must be `distillationGraph` of the configuration's F and
 * α) fed the teachers' logits on every batch; with α = 0 the teachers are never run.
 */
export function onlineObjective(config: TrainConfig, setup: RunSetup, teachers: OnlineTeachers, events: RunEvents): ClassifierObjective {
  const student = tokenizerHash(setup.tokenizer);
  const tasks = setup.schema.tasks;
  const { intermediate } = teachers;
  const logitFeeds = config.kdAlpha === 0
    ? undefined
    : (batch: RowBatch) => teachers.meter.time(() => teacherFeeds(teachers.map, tasks, batch, student));
  // With intermediate terms the one teacher runs once per batch, for its states and its logits alike.
  const inputs: BatchInputs | undefined = intermediate
    ? (batch) => teachers.meter.time(async () => {
      const taught = await intermediateBatch(intermediate.teacher, intermediate.plan, batch, student);
      const covered = { logits: async () => new Map([...taught.logits].filter(([task]) => teachers.map.byTask.has(task))) };
      const kd = config.kdAlpha === 0 ? {} : await teacherFeeds(covered, tasks, batch, student);
      return { ...kd, ...taught.feeds };
    })
    : logitFeeds;
  const taught = tasks.filter((t) => teachers.map.byTask.has(t.name)).map((t) => t.name);
  const base = classificationObjective(config, setup, events, { ...(inputs ? { inputs } : {}), tasks: taught });
  return {
    ...base,
    identity: identityWithTeachers(base.identity, teachersFingerprint(teachers.fingerprints)),
    start: async (progress) => {
      const run = await base.start(progress);
      const terms = new TermMeans();
      return {
        ...run,
        stepped: (step) => {
          teachers.meter.stepped(step.seconds);
          if (step.report && !step.report.skipped) terms.add(step.report.outputs);
          run.stepped(step);
        },
        interval: (at) => {
          const line = run.interval(at);
          const means = terms.take();
          return line === null ? null : { ...line, ...means };
        },
        // The projections serve the training only: the model evaluated and written has none.
        model: () => new Map([...run.model()].filter(([name]) => !isDistillationParam(name))),
        reached: async (point) => {
          await run.reached(point);
          await teachers.flush?.();
        },
        release: async () => {
          try {
            await teachers.flush?.();
          } finally {
            await run.release();
          }
        },
      };
    },
  };
}

/** The training graph's intermediate terms averaged over the steps since the last metrics line, by metric name. */
class TermMeans {
  private readonly sums = new Map<string, { sum: number; count: number }>();
  private static readonly METRICS: readonly (readonly [string, string])[] = [[HIDDEN_MSE_OUTPUT, 'hiddenMse'], [RELATION_KL_OUTPUT, 'relationKl']];

  add(outputs: readonly Results[]): void {
    for (const result of outputs) {
      for (const [output, metric] of TermMeans.METRICS) {
        const value = result[output]?.data[0];
        if (typeof value !== 'number') continue;
        const entry = this.sums.get(metric) ?? { sum: 0, count: 0 };
        this.sums.set(metric, { sum: entry.sum + value, count: entry.count + 1 });
      }
    }
  }

  take(): Record<string, number> {
    const means = Object.fromEntries([...this.sums].map(([metric, { sum, count }]) => [metric, sum / count]));
    this.sums.clear();
    return means;
  }
}

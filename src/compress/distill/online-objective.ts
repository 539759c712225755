// Training with online teachers: train/'s classification objective with Eq. 2 as its loss (distillationLoss over
// the same logits) and, added to every micro-batch as it is planned, the teachers' logits for each of its rows.
// Every row of a batch (a gold example or a teacher file's row) gets the teachers' targets for every task they
// cover, so the student learns a task it has no gold label for from them. The run's identity adds the teachers'
// fingerprints to its settings, so a resumed run refuses teachers whose outputs could differ.
import { createHash } from 'node:crypto';
import { trainingGraph } from '../../autodiff/training-graph.ts';
import { GraphBuilder } from '../../builder/builder.ts';
import type { Task } from '../../data/index.ts';
import { XlmtError } from '../../errors/index.ts';
import type { Feeds } from '../../runtime/session.ts';
import { type BatchInputs, classificationObjective, type RowBatch, type RunEvents } from '../../train/classification.ts';
import type { TrainConfig } from '../../train/config.ts';
import { classifierLogits, type ClassifierGraph } from '../../train/graph.ts';
import type { RunIdentity } from '../../train/loop/index.ts';
import type { ClassifierObjective } from '../../train/run.ts';
import type { RunSetup } from '../../train/setup.ts';
import { distillationLoss, type DistillationOptions } from './kd-loss.ts';
import { teacherLogitsInput, teacherMaskInput } from './names.ts';
import type { TeacherStepMeter } from './teacher-cost.ts';
import { tokenizerHash } from './teacher-encoding.ts';
import type { TeacherBatch } from './teacher.ts';
import type { TeacherMap } from './teacher-map.ts';

/** Eq. 2 over the classifier's logits; with α = 0 it declares no teacher input and is the gold loss alone. */
export function distillationGraph(options: DistillationOptions): ClassifierGraph {
  return (parts) => {
    const g = new GraphBuilder('train');
    const logits = classifierLogits(g, parts);
    return trainingGraph(g, { loss: distillationLoss(g, parts.tasks, logits, options) });
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
  readonly map: TeacherLogits;
  /** Every teacher once, for the run's fingerprint. */
  readonly fingerprints: readonly { readonly fingerprint: string }[];
  /** Times their forward passes per step. */
  readonly meter: TeacherStepMeter;
}

/**
 * The classification objective of `setup` (whose graph must be `distillationGraph` of the configuration's F and
 * α) fed the teachers' logits on every batch; with α = 0 the teachers are never run.
 */
export function onlineObjective(config: TrainConfig, setup: RunSetup, teachers: OnlineTeachers, events: RunEvents): ClassifierObjective {
  const student = tokenizerHash(setup.tokenizer);
  const tasks = setup.schema.tasks;
  const inputs: BatchInputs | undefined = config.kdAlpha === 0
    ? undefined
    : (batch) => teachers.meter.time(() => teacherFeeds(teachers.map, tasks, batch, student));
  const base = classificationObjective(config, setup, events, inputs);
  return {
    ...base,
    identity: identityWithTeachers(base.identity, teachersFingerprint(teachers.fingerprints)),
    start: async (progress) => {
      const run = await base.start(progress);
      return {
        ...run,
        stepped: (step) => {
          teachers.meter.stepped(step.seconds);
          run.stepped(step);
        },
      };
    },
  };
}

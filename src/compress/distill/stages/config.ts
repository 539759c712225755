// `xlmt distill`'s configuration: who teaches whom on what data, which of XtremeDistil's stages run in which order,
// and the training settings of each. A stage is an `xlmt train` run, so its settings are TrainConfig's fields:
// those every stage shares (`common`, and the flags), those of one stage (its own section), over the stage's
// defaults below. The fields that make a stage what it is (its data, its starting weights, what it trains, whether
// gold labels count) are the command's to set and are refused in a section.
import { join } from 'node:path';
import { z } from 'zod';
import { parseTrainConfig, TrainConfigSchema, type TrainConfig } from '../../../train/config.ts';
import { XlmtError } from '../../../errors/index.ts';

export const STAGE_NAMES = ['representation', 'logits', 'unfreeze', 'finetune'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Set by the command for every stage: a section or `common` that names one is refused. */
export const STAGE_CONTROLLED = ['train', 'dev', 'tasks', 'init', 'out', 'teacherModel', 'transfer', 'goldLabels', 'trainable', 'tokenizer', 'encoder'] as const;

/**
 * What each stage changes of `xlmt train`'s defaults (docs/distillation.md says why):
 * - representation: the hidden-state MSE alone (α = 0, W_h = 1) on texts without their labels; no dev set, since
 *   the heads do not learn in it, so every epoch is kept;
 * - logits and unfreeze: Eq. 2's teacher term alone (gold labels off), early stopping on dev;
 * - finetune: Eq. 2 on the gold labels, early stopping on dev.
 */
export const STAGE_DEFAULTS: Readonly<Record<StageName, Readonly<Record<string, unknown>>>> = {
  representation: { kdAlpha: 0, hiddenWeight: 1, epochs: 3, patience: 0 },
  logits: { epochs: 3, patience: 2 },
  unfreeze: { epochs: 3, patience: 2 },
  finetune: { epochs: 3, patience: 2 },
};

/** Where the logit stages keep the teachers' logits, in the output directory. */
export const TEACHER_CACHE_DIR = 'teacher-cache';

/** Layers unfrozen per sub-stage of `unfreeze` (XtremeDistil steps through a few groups, not single layers). */
export const DEFAULT_UNFREEZE_GROUP = 2;

const section = z.record(z.string(), z.unknown());

export const DistillConfigSchema = z.strictObject({
  /** Online teachers, as `xlmt train --teacher-model`: DIR, or TASK[,TASK…]=DIR. */
  teacherModel: z.union([z.string().min(1).transform((v) => [v]), z.array(z.string().min(1)).min(1)]),
  /** A preset name (the student made from the teacher by `xlmt init-student --preset`), or a model or run directory. */
  student: z.string().min(1),
  /** Labeled training data: its texts are transfer texts in the stages before fine-tuning, its labels train the last. */
  train: z.string().min(1),
  /** Labeled dev data: early stopping, rollback and every stage's report. */
  dev: z.string().min(1),
  tasks: z.string().min(1).optional(),
  /** Unlabeled texts the teachers label in the stages before fine-tuning, beside the training texts. */
  transfer: z.union([z.string().min(1).transform((v) => [v]), z.array(z.string().min(1)).min(1)]).optional(),
  out: z.string().min(1),
  /** The stages to run, in order; each at most once. */
  stages: z.array(z.enum(STAGE_NAMES)).min(1).default([...STAGE_NAMES])
    .refine((s) => new Set(s).size === s.length, { message: 'names a stage twice' }),
  /** Layers unfrozen per sub-stage of `unfreeze`, from the top; the last sub-stage adds the embeddings. */
  unfreezeGroup: z.number().int().positive().default(DEFAULT_UNFREEZE_GROUP),
  /** Keep each finished stage's whole checkpoint (default: slimmed to its progress once the stage is recorded). */
  keepCheckpoints: z.boolean().default(false),
  /** Training settings of every stage (TrainConfig fields). */
  common: section.default({}),
  representation: section.default({}),
  logits: section.default({}),
  unfreeze: section.default({}),
  finetune: section.default({}),
});

export type DistillConfig = z.infer<typeof DistillConfigSchema>;

/** Settings of the logit terms: the command line gives them to the stages that transfer logits. */
export const LOGIT_FIELDS = ['kdTemperature', 'kdAlpha'] as const;
/** Settings of the hidden-state term: the command line gives them to the representation stage. */
export const REPRESENTATION_FIELDS = ['hiddenWeight', 'match'] as const;

export function parseDistillConfig(input: unknown, origin: string): DistillConfig {
  const parsed = DistillConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    const top = issue?.path.length === 1 ? String(issue.path[0]) : undefined;
    const given = top !== undefined && typeof input === 'object' && input !== null && top in input;
    if (top !== undefined && !given && issue?.code === 'invalid_type') {
      const flag = `--${top.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new XlmtError({ code: 'MISSING_OPTION', where: { field: flag }, message: `no ${top} given`, hint: `give ${flag}, or ${top} in the --config file` });
    }
    throw new XlmtError({
      code: 'CONFIG_INVALID',
      where: { file: origin, ...(field ? { field } : {}) },
      message: issue?.message ?? 'invalid distillation configuration',
      hint: 'the fields are listed in docs/distillation.md, "xlmt distill"',
    });
  }
  const config = parsed.data;
  for (const name of ['common', ...STAGE_NAMES] as const) {
    const fields = Object.keys(config[name]);
    const controlled = fields.find((f) => (STAGE_CONTROLLED as readonly string[]).includes(f));
    if (controlled !== undefined) {
      throw new XlmtError({
        code: 'CONFIG_INVALID',
        where: { file: origin, field: `${name}.${controlled}` },
        message: `${controlled} is set by xlmt distill for each stage`,
        hint: `give the data, teachers and student at the top level (${['train', 'dev', 'tasks', 'transfer', 'teacherModel', 'student'].join(', ')}); what each stage trains follows from the stage`,
      });
    }
    const unknown = fields.find((f) => !(f in TrainConfigSchema.shape));
    if (unknown !== undefined) {
      throw new XlmtError({ code: 'CONFIG_INVALID', where: { file: origin, field: `${name}.${unknown}` }, message: 'not a training setting', hint: 'a stage takes the fields of xlmt train\'s configuration (docs/training.md)' });
    }
  }
  return config;
}

/** One stage's run: its name in reports and on disk, and the training configuration it runs. */
export interface StageRun {
  /** `representation`, `logits`, `unfreeze-2`, `finetune`. */
  readonly name: string;
  readonly stage: StageName;
  readonly config: TrainConfig;
}

/**
 * A stage's `xlmt train` configuration: its defaults, then `common`, then its section, then what the command sets.
 * `init` is the model the stage starts from, known only when the stage before it has ended.
 */
export function stageTrainConfig(
  config: DistillConfig, stage: StageName, set: { readonly out: string; readonly init: string; readonly trainable?: readonly string[]; readonly student: StudentDefaults },
  origin: string,
): TrainConfig {
  const controlled: Record<string, unknown> = {
    train: config.train, out: set.out, init: set.init, teacherModel: config.teacherModel,
    goldLabels: stage === 'finetune',
    ...(stage === 'representation' ? {} : { dev: config.dev }),
    ...(config.tasks ? { tasks: config.tasks } : {}),
    ...(config.transfer && stage !== 'finetune' ? { transfer: config.transfer } : {}),
    ...(set.trainable ? { trainable: [...set.trainable] } : {}),
  };
  const merged: Record<string, unknown> = { ...set.student, ...STAGE_DEFAULTS[stage], ...config.common, ...config[stage], ...controlled };
  // Stages without intermediate terms need the teachers' logits only: one cache serves them all, so a text costs
  // one forward pass of the teachers over every logit stage and epoch.
  const intermediate = Number(merged.hiddenWeight ?? 0) > 0 || Number(merged.relationWeight ?? 0) > 0;
  if (!intermediate && merged.teacherCache === undefined) merged.teacherCache = join(config.out, TEACHER_CACHE_DIR);
  return parseTrainConfig(merged, `${origin} (stage ${stage})`);
}

/** What a stage takes from the student model unless the configuration says otherwise. */
export interface StudentDefaults {
  readonly pooling: 'cls' | 'mean';
  readonly headStyle: TrainConfig['headStyle'];
  readonly maxLength?: number;
}

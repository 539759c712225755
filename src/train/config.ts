// The training configuration: a validated JSON file plus command-line overrides. Defaults are documented here
// and in docs/training.md.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { jsonErrorPosition } from '../data/schema.ts';
import { chooseWeightBits, readCpuFlags } from '../export/cpu-features.ts';
import { preview, toXlmtError } from '../errors/index.ts';
import { HEAD_STYLES, MODEL_META_FILE, WeightBitsSchema } from '../model-dir/index.ts';
import { ConfigError, configError, type ConfigOrigin } from './config-errors.ts';
import { EncoderShapeSchema, type FullShape } from './encoder-shape.ts';

export { ConfigError, type ConfigOrigin } from './config-errors.ts';

const positiveInt = z.number().int().positive();

/** Eq. 2's temperature F and weight α when online teachers are given without them (see the fields below). */
export const KD_DEFAULTS = { temperature: 4, alpha: 1 } as const;

/**
 * The encoder built when training from scratch (ignored with `init`): MiniLM-L6-H384's shape unless a preset or
 * sizes are given. 514 positions as XLM-R.
 */
export const TRAIN_SHAPE: FullShape = {
  layers: 6, hidden: 384, heads: 12, ffn: 1536, maxPositions: 514, typeVocab: 1, layerNormEps: 1e-12, dropout: 0.1, attentionDropout: 0.1,
};

/**
 * `init` given as a training run (RUN, whose model is RUN/best) means that model, as --model means it for eval,
 * export and the compression passes; a model or checkpoint directory is taken as it is.
 */
function initDir(path: string): string {
  return !existsSync(join(path, MODEL_META_FILE)) && existsSync(join(path, 'best', MODEL_META_FILE)) ? join(path, 'best') : path;
}

/**
 * Quantization-aware training (`qat`, `--qat [ema|lsq]`; docs/quantization.md): fake int8 on the encoder's dense
 * layers, as the int8 export quantizes them, from a trained fp32 model (`init`). `activations` is how the input
 * ranges are kept ('ema': Q8BERT's moving average of max|x|; 'lsq': learned step sizes); the default is 'ema',
 * chosen by measurement (the xm-bench teacher, 850 steps each: the two tied on the fake-quantized dev score, 61.0,
 * and ema's int8 export scored 0.5 points above lsq's; ema also needs no extra parameters). `wordEmbeddings` also
 * rounds the looked-up word rows as an int8 table stores them; default false, since the word table is a lookup whose
 * int8 form the export checks on its own (`--int8-embeddings auto`): the rounding the model must live with is the
 * dense layers'. `weightBits` is the weights' grid, 8 (codes −127…127) or 7 (−63…63); default the one this CPU's
 * int8 kernels compute exactly (export/cpu-features.ts: 7 without VNNI), written into the run's config.json so that a
 * resumed run keeps it; the export serves the model on the grid it trained on. The flag's value is the mode alone,
 * or nothing for the default (`true` in a configuration file); `--qat-weight-bits` sets `weightBits`.
 */
const QAT_MODES = ['ema', 'lsq'] as const;
export const DEFAULT_QAT_MODE: (typeof QAT_MODES)[number] = 'ema';
const QatObjectSchema = z.strictObject({
  activations: z.enum(QAT_MODES).default(DEFAULT_QAT_MODE),
  wordEmbeddings: z.boolean().default(false),
  weightBits: WeightBitsSchema.default(() => chooseWeightBits(readCpuFlags()).bits),
});
export const QatSchema = z.unknown().transform((value, ctx): z.output<typeof QatObjectSchema> => {
  // The flag's value is the mode alone (or true, the default mode): checked as the object's `activations`, its
  // errors reported on `qat` itself.
  const mode = typeof value === 'string' || value === true;
  const parsed = QatObjectSchema.safeParse(value === true ? {} : typeof value === 'string' ? { activations: value } : value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: mode ? [] : issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

export type QatConfig = z.infer<typeof QatSchema>;

export const TrainConfigSchema = z.strictObject({
  /** Labeled training data (JSONL, CSV or TSV). */
  train: z.string().min(1),
  /** Labeled dev data: evaluated every epoch, drives early stopping and the multilabel thresholds. */
  dev: z.string().min(1).optional(),
  /** How CSV/TSV files map to examples (train and dev alike); see docs/data.md. */
  csv: z.strictObject({
    textColumn: z.string().min(1).optional(),
    langColumn: z.string().min(1).optional(),
    idColumn: z.string().min(1).optional(),
    labelColumns: z.record(z.string(), z.string().min(1)).optional(),
    separator: z.string().min(1).optional(),
    emptySet: z.string().min(1).optional(),
  }).optional(),
  /**
   * Teachers' predictions (xlmt predict's JSONL with the text kept) whose label probabilities train the model as
   * soft targets beside the gold labels: distillation on a transfer set. Several files scoring the same rows
   * make an ensemble (their probabilities averaged). See teacher.ts.
   */
  teacher: z.union([z.string().min(1).transform((file) => [file]), z.array(z.string().min(1)).min(1)]).optional(),
  /**
   * Online teachers run beside the student on every batch (`--teacher-model`, repeatable): `DIR` teaches every task
   * of the student that DIR has, `TASK[,TASK…]=DIR` the tasks named (compress/distill/teacher-map.ts). With them the
   * loss is Eq. 2 (gold cross-entropy + α·F²·KL against the teachers' softened outputs). Combines with `teacher`:
   * a teacher file's rows keep their soft targets in the gold term, and the online teachers score them too.
   */
  teacherModel: z.union([z.string().min(1).transform((value) => [value]), z.array(z.string().min(1)).min(1)]).optional(),
  /**
   * F of Eq. 2, read only with `teacherModel`. 4 is TextBrewer's default; as F grows the F²-scaled KL tends to
   * regressing the teacher's logits, which is what XtremeDistil's logit stage does (MSE, no temperature).
   */
  kdTemperature: z.number().positive().default(KD_DEFAULTS.temperature),
  /**
   * A directory of the online teachers' logits (`--teacher-cache`): one file per teacher, float16, keyed by teacher
   * and text (compress/distill/teacher-cache.ts). A text the cache holds is not run through the teacher again, in
   * this run's later epochs or in any other run that gives the same directory. Read only with `teacherModel`, and
   * not with intermediate weights (hidden states are not cached).
   */
  teacherCache: z.string().min(1).optional(),
  /**
   * Unlabeled texts the online teachers label (`--transfer`, repeatable): JSONL with a `text` field, or plain text
   * one per line. Each row joins training with no gold label and is drawn for the tasks the teachers cover, in
   * turn, so the student learns from the teachers alone on it: XtremeDistil's transfer set. Read only with
   * `teacherModel`.
   */
  transfer: z.union([z.string().min(1).transform((file) => [file]), z.array(z.string().min(1)).min(1)]).optional(),
  /**
   * false: the training data's labels are left unused and its texts join the transfer set, so the loss is the
   * teachers' alone (XtremeDistil's stages before fine-tuning). Read only with `teacherModel`. Default true.
   */
  goldLabels: z.boolean().default(true),
  /**
   * α of Eq. 2, the weight of the teachers' term, read only with `teacherModel`. 1 is TextBrewer's KD weight and
   * gives the teachers' term (on the gold term's gradient scale through F²) as much say as the gold labels; 0 is
   * training without a teacher (the teachers are then checked but never run).
   */
  kdAlpha: z.number().min(0).default(KD_DEFAULTS.alpha),
  /**
   * Intermediate-layer transfer (`--match`), read only with `teacherModel` and a weight below: `S:T,…` pairs of a
   * student layer and the teacher layer it learns from, numbered as transformers' hidden_states (0 the embeddings'
   * output). Default: student layer i ↦ teacher layer round(i·L_t/L_s) for every student layer.
   */
  match: z.string().min(1).optional(),
  /**
   * Weight of the hidden-state MSE (through a learned projection to the teacher's hidden size, dropped from the
   * saved model) added to Eq. 2. 0, the default, adds nothing to the graph.
   */
  hiddenWeight: z.number().min(0).default(0),
  /** Weight of MiniLMv2's query/key/value self-attention relation KL added to Eq. 2. 0, the default, adds nothing. */
  relationWeight: z.number().min(0).default(0),
  /**
   * Relation heads R of the relation KL (both sides' vectors are split into R heads, so head counts may differ).
   * Default: the teacher's number of attention heads. Read only with `relationWeight` > 0.
   */
  relationHeads: positiveInt.optional(),
  /** The language of rows that carry none (a CSV without a language column, say). */
  defaultLang: z.string().min(1).optional(),
  /** Task schema (tasks.json); inferred from the training data when omitted. */
  tasks: z.string().min(1).optional(),
  /** tokenizer.json; defaults to the one in `init`. */
  tokenizer: z.string().min(1).optional(),
  /** A Hugging Face checkpoint directory (config.json + model.safetensors), or a training run (its best/), to start from. */
  init: z.string().min(1).transform(initDir).optional(),
  /**
   * Train only the parameters these globs match (Hugging Face names, `*` any characters: `heads.*`,
   * `encoder.layer.11.*`); the others stay as they started (train/trainable.ts). Default: every parameter.
   */
  trainable: z.array(z.string().min(1)).min(1).optional(),
  /** Quantization-aware training from `init` (QatSchema above); off when omitted. */
  qat: QatSchema.optional(),
  /** Encoder shape for training from scratch: `preset` and/or sizes (see encoder-shape.ts). */
  encoder: EncoderShapeSchema.default({}),
  /** Run directory: resolved config, metrics.jsonl, checkpoints. */
  out: z.string().min(1).default('runs/train'),
  pooling: z.enum(['cls', 'mean']).default('cls'),
  /**
   * Train with character n-gram embeddings of these lengths added to the word embeddings (fastText's subword
   * vectors); saved models have them folded into the word embeddings. Off when omitted.
   */
  charNgrams: z.strictObject({ min: positiveInt, max: positiveInt })
    .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
    .optional(),
  /** What each task puts on the sentence vector: xlmt's linear head, or transformers' `bert` or `roberta` head. */
  headStyle: z.enum(HEAD_STYLES).default('linear'),
  maxLength: positiveInt.default(128),
  batchSize: positiveInt.default(32),
  /** Micro-batches per optimizer step. */
  accumulation: positiveInt.default(1),
  epochs: positiveInt.default(3),
  /** Peak learning rate. 5e-5 suits a pretrained encoder; training from scratch wants ~5e-4. */
  lr: z.number().positive().default(5e-5),
  schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
  /** Share of all steps spent warming up. */
  warmupRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).default(0.01),
  /** AdamW's epsilon; 1e-6 as in BERT fine-tuning recipes. */
  adamEps: z.number().positive().default(1e-6),
  maxGradNorm: z.number().positive().default(1),
  sampling: z.enum(['proportional', 'temperature', 'round-robin']).default('proportional'),
  /** For temperature sampling. */
  temperature: z.number().positive().default(2),
  /**
   * Batch texts of similar length within windows of this many batches of a task (0 or 1: random batches).
   * Padding to each batch's longest text then wastes little compute.
   */
  groupWindow: z.number().int().min(0).default(50),
  /** Stop after this many evaluations without a better mean macro-F1 on dev; 0 never stops early. */
  patience: z.number().int().min(0).default(2),
  /** Save a resumable checkpoint every this many optimizer steps (and at every epoch's end). */
  checkpointEvery: positiveInt.default(200),
  nonFinite: z.enum(['error', 'skip']).default('error'),
  seed: z.number().int().min(0).default(42),
  threads: positiveInt.default(2),
  /** Examples per inference batch when evaluating. */
  evalBatchSize: positiveInt.default(64),
}).superRefine((config, ctx) => {
  // Settings that would change nothing are refused: a layer mapping without a weight, relation heads without the
  // relation term, and any distillation setting other than its default without a teacher.
  if (config.qat !== undefined && config.init === undefined) {
    ctx.addIssue({ code: 'custom', path: ['qat'], message: 'quantization-aware training starts from a trained fp32 model: give it with --init (init)' });
  }
  const intermediate = config.hiddenWeight > 0 || config.relationWeight > 0;
  if (config.match !== undefined && !intermediate) ctx.addIssue({ code: 'custom', path: ['match'], message: 'read only with hiddenWeight or relationWeight above 0 (--hidden-weight, --relation-weight)' });
  if (config.relationHeads !== undefined && config.relationWeight === 0) ctx.addIssue({ code: 'custom', path: ['relationHeads'], message: 'read only with relationWeight above 0 (--relation-weight)' });
  const teachesNothing = config.kdAlpha === 0 && !intermediate;
  if (config.transfer !== undefined && teachesNothing) ctx.addIssue({ code: 'custom', path: ['transfer'], message: 'the transfer texts have no gold labels and would teach nothing with kdAlpha 0 and no intermediate weight' });
  if (!config.goldLabels && teachesNothing) ctx.addIssue({ code: 'custom', path: ['goldLabels'], message: 'without gold labels, kdAlpha 0 and no intermediate weight there is nothing to learn from' });
  if (config.teacherCache !== undefined && intermediate) ctx.addIssue({ code: 'custom', path: ['teacherCache'], message: 'caches logits only, and intermediate weights need the teacher\'s hidden states on every batch' });
  if (config.teacherModel !== undefined) return;
  if (config.teacherCache !== undefined) ctx.addIssue({ code: 'custom', path: ['teacherCache'], message: 'read only with online teachers (teacherModel, --teacher-model)' });
  if (config.transfer !== undefined) ctx.addIssue({ code: 'custom', path: ['transfer'], message: 'read only with online teachers (teacherModel, --teacher-model): they label its texts' });
  if (!config.goldLabels) ctx.addIssue({ code: 'custom', path: ['goldLabels'], message: 'read only with online teachers (teacherModel, --teacher-model): without gold labels they are the only targets' });
  for (const field of ['kdTemperature', 'kdAlpha'] as const) {
    const fallback = field === 'kdTemperature' ? KD_DEFAULTS.temperature : KD_DEFAULTS.alpha;
    if (config[field] !== fallback) ctx.addIssue({ code: 'custom', path: [field], message: 'read only with online teachers (teacherModel, --teacher-model)' });
  }
  for (const field of ['hiddenWeight', 'relationWeight'] as const) {
    if (config[field] !== 0) ctx.addIssue({ code: 'custom', path: [field], message: 'read only with online teachers (teacherModel, --teacher-model)' });
  }
});

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

const KNOWN_FIELDS = Object.keys(TrainConfigSchema.shape);

/**
 * Validate a configuration object (from a file, flags, or both merged). `origin` names its source: a file name or
 * description, or the file and the flags laid over it, so that errors name the flag or the file and field.
 */
export function parseTrainConfig(input: unknown, origin: string | ConfigOrigin): TrainConfig {
  const result = TrainConfigSchema.safeParse(input);
  if (!result.success) throw configError(result.error, input, typeof origin === 'string' ? { file: origin } : origin, KNOWN_FIELDS);
  return result.data;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const error = toXlmtError(e);
    throw new ConfigError({ code: error.code, message: `cannot read the configuration: ${error.problem}`, where: { file } }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const { line, detail } = jsonErrorPosition(text, (e as Error).message);
    throw new ConfigError({ code: 'CONFIG_INVALID', message: `invalid JSON: ${detail}`, where: { file, line }, expected: 'a JSON object of settings' }, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError({ code: 'CONFIG_INVALID', message: 'the configuration must be a JSON object', where: { file }, expected: 'a JSON object of settings', received: preview(json) });
  }
  return json as Record<string, unknown>;
}

// The training flags shared by `xlmt train` and `xlmt experiment`, and how they merge over a config file.
import { type Command, Option } from 'commander';
import { PRESET_NAMES } from '../checkpoint/index.ts';
import { HEAD_STYLES } from '../model-dir/index.ts';
import { parseTrainConfig, readConfigFile, TRAIN_SHAPE, TrainConfigSchema, type ConfigOrigin, type TrainConfig } from '../train/config.ts';
import { XlmtError } from '../errors/index.ts';
import { collect, intRange, nonNegativeInt, number, onOff, positiveInt } from './options.ts';

export interface TrainFlags {
  config?: string;
  train?: string; dev?: string; teacher?: string[]; teacherModel?: string[]; kdTemperature?: number; kdAlpha?: number; teacherCache?: string; transfer?: string[]; goldLabels?: boolean; match?: string; hiddenWeight?: number; relationWeight?: number; relationHeads?: number; tasks?: string; tokenizer?: string; init?: string; trainable?: string[]; qat?: string | true; qatWeightBits?: number; out?: string;
  pooling?: string; charNgrams?: { min: number; max: number }; headStyle?: string; maxLength?: number; batchSize?: number; accumulation?: number; epochs?: number;
  lr?: number; schedule?: string; warmupRatio?: number; weightDecay?: number; sampling?: string; temperature?: number; groupWindow?: number;
  patience?: number; checkpointEvery?: number; seed?: number; threads?: number;
  preset?: string; layers?: number; hidden?: number; heads?: number; ffn?: number;
}

type ConfigFlag = Exclude<keyof TrainFlags, 'config' | EncoderFlag | 'qatWeightBits'>;
type EncoderFlag = (typeof ENCODER_FLAGS)[number];

/** Flags that set the from-scratch encoder (`encoder` in the config). */
export const ENCODER_FLAGS = ['preset', 'layers', 'hidden', 'heads', 'ffn'] as const;


/** Every training flag; a command adds the ones it takes. */
const FLAGS: Record<ConfigFlag | EncoderFlag | 'qatWeightBits', () => Option> = {
  train: () => new Option('--train <file>', 'labeled training data (JSONL, CSV, TSV)'),
  dev: () => new Option('--dev <file>', 'labeled dev data, evaluated every epoch'),
  teacher: () => new Option('--teacher <file>', 'a teacher\'s predictions (xlmt predict JSONL, text kept): its label probabilities train as soft targets; repeat for an ensemble').argParser(collect),
  teacherModel: () => new Option('--teacher-model <dir>', 'an online teacher run beside the student (a run, model, export or baseline directory; TASK[,TASK…]=DIR for some tasks): the loss becomes Eq. 2; repeat for several teachers').argParser(collect),
  kdTemperature: () => new Option('--kd-temperature <F>', 'temperature F softening teacher and student in Eq. 2').argParser(number('--kd-temperature')),
  kdAlpha: () => new Option('--kd-alpha <α>', 'weight α of the teachers\' term in Eq. 2 (0: gold labels alone)').argParser(number('--kd-alpha')),
  teacherCache: () => new Option('--teacher-cache <dir>', 'keep the online teachers\' logits in this directory (float16, by teacher and text) and reuse them across epochs and runs'),
  transfer: () => new Option('--transfer <file>', 'unlabeled texts (JSONL with "text", or one per line) the online teachers label for the student; repeat for several files').argParser(collect),
  goldLabels: () => new Option('--gold-labels <on|off>', 'off: leave the training data\'s labels unused, its texts labeled by the online teachers alone (default: on)').argParser(onOff('--gold-labels')),
  match: () => new Option('--match <pairs>', 'intermediate-layer transfer: student:teacher layers, e.g. 1:4,2:8,3:12 (0: embeddings; default: student i ↦ teacher round(i·Lt/Ls))'),
  hiddenWeight: () => new Option('--hidden-weight <w>', 'weight of the hidden-state MSE through a learned projection, added to Eq. 2 (0: off)').argParser(number('--hidden-weight')),
  relationWeight: () => new Option('--relation-weight <w>', 'weight of MiniLMv2\'s query/key/value attention relation KL, added to Eq. 2 (0: off)').argParser(number('--relation-weight')),
  relationHeads: () => new Option('--relation-heads <R>', 'relation heads of the relation KL (default: the teacher\'s attention heads)').argParser(positiveInt('--relation-heads')),
  tasks: () => new Option('--tasks <file>', 'task schema (tasks.json); inferred from the data when omitted'),
  tokenizer: () => new Option('--tokenizer <file>', 'tokenizer.json (default: the one in --init)'),
  init: () => new Option('--init <dir>', 'Hugging Face checkpoint or model directory to start from, or a training run (its best model)'),
  trainable: () => new Option('--trainable <patterns>', 'train only the parameters these comma-separated globs match, e.g. heads.*,encoder.layer.11.*,pooler.* (default: all)').argParser(patternList),
  qat: () => new Option('--qat [mode]', 'quantization-aware training from --init: fake int8 on the encoder\'s dense layers, input ranges kept as a moving average (ema, the default) or learned (lsq)'),
  qatWeightBits: () => new Option('--qat-weight-bits <bits>', 'with --qat, the weights\' grid: 8 or 7 bits (default: the one this CPU\'s int8 kernels compute exactly, 7 without VNNI)').choices(['7', '8']).argParser(Number),
  out: () => new Option('--out <dir>', 'run directory'),
  pooling: () => new Option('--pooling <kind>', 'sentence vector').choices(['cls', 'mean']),
  charNgrams: () => new Option('--char-ngrams <min-max>', 'train with character n-gram embeddings of these lengths (e.g. 3-5), folded into the word embeddings when saved').argParser(intRange('--char-ngrams')),
  headStyle: () => new Option('--head-style <style>', 'task heads: xlmt\'s linear head, or transformers\' BERT or RoBERTa classification head').choices(HEAD_STYLES),
  maxLength: () => new Option('--max-length <n>', 'tokens per text').argParser(positiveInt('--max-length')),
  batchSize: () => new Option('--batch-size <n>', 'examples per batch').argParser(positiveInt('--batch-size')),
  accumulation: () => new Option('--accumulation <n>', 'micro-batches per optimizer step').argParser(positiveInt('--accumulation')),
  epochs: () => new Option('--epochs <n>', 'epochs').argParser(positiveInt('--epochs')),
  lr: () => new Option('--lr <x>', 'peak learning rate').argParser(number('--lr')),
  schedule: () => new Option('--schedule <kind>', 'learning-rate schedule').choices(['linear', 'cosine', 'constant']),
  warmupRatio: () => new Option('--warmup-ratio <x>', 'share of steps spent warming up').argParser(number('--warmup-ratio')),
  weightDecay: () => new Option('--weight-decay <x>', 'AdamW weight decay').argParser(number('--weight-decay')),
  sampling: () => new Option('--sampling <kind>', 'task sampling').choices(['proportional', 'temperature', 'round-robin']),
  temperature: () => new Option('--temperature <x>', 'temperature of task sampling').argParser(number('--temperature')),
  groupWindow: () => new Option('--group-window <n>', 'batch texts of similar length within this many batches of a task (0: random)').argParser(nonNegativeInt('--group-window')),
  patience: () => new Option('--patience <n>', 'epochs without a better dev score before stopping (0: never)').argParser(number('--patience')),
  checkpointEvery: () => new Option('--checkpoint-every <n>', 'optimizer steps between resumable checkpoints').argParser(positiveInt('--checkpoint-every')),
  seed: () => new Option('--seed <n>', 'random seed').argParser(number('--seed')),
  threads: () => new Option('--threads <n>', 'ONNX Runtime threads').argParser(positiveInt('--threads')),
  preset: () => new Option('--preset <name>', 'encoder shape from scratch: one of the paper\'s models').choices(PRESET_NAMES),
  layers: () => new Option('--layers <n>', 'encoder layers (from scratch)').argParser(positiveInt('--layers')),
  hidden: () => new Option('--hidden <n>', 'hidden size (from scratch)').argParser(positiveInt('--hidden')),
  heads: () => new Option('--heads <n>', 'attention heads (from scratch)').argParser(positiveInt('--heads')),
  ffn: () => new Option('--ffn <n>', 'feed-forward size (from scratch)').argParser(positiveInt('--ffn')),
};

/** `heads.*, pooler.*` → ['heads.*', 'pooler.*']: empty items dropped, so the schema refuses a list of none. */
function patternList(value: string): string[] {
  return value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

export type TrainFlagName = keyof typeof FLAGS;
export const ALL_TRAIN_FLAGS = Object.keys(FLAGS) as TrainFlagName[];

export function addTrainOptions(command: Command, names: readonly TrainFlagName[]): Command {
  command.option('--config <file>', 'JSON training configuration (flags override it); fields in docs/training.md');
  for (const name of names) {
    const option = FLAGS[name]();
    const fallback = defaultOf(name);
    // In the text only: a commander default would be a value given, and override the --config file's.
    if (fallback !== undefined) option.description += ` (default: ${fallback})`;
    command.addOption(option);
  }
  return command;
}

/** The schema's default for a flag, as help text; undefined when it has none. */
function defaultOf(name: TrainFlagName): string | undefined {
  if (name === 'qatWeightBits') return undefined; // in the option's text
  const value: unknown = (ENCODER_FLAGS as readonly string[]).includes(name) ? TRAIN_SHAPE[name as Exclude<EncoderFlag, 'preset'>] : SCHEMA_DEFAULTS[name];
  if (typeof value === 'number') return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
  return typeof value === 'string' ? value : undefined;
}

/** Every default the schema fills in (`train` is required, so one is given and dropped). */
const { train: _train, ...SCHEMA_DEFAULTS }: Readonly<Record<string, unknown>> = TrainConfigSchema.parse({ train: '-' });

/** The flag of a config field: `batchSize` → `--batch-size`. */
export function flagOf(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Where each field of a merged configuration came from, for errors: `keys` are the flags that are top-level
 * fields, the encoder flags set `encoder.*`, anything else came from `file`.
 */
export function configOrigin(flags: Readonly<Partial<Record<string, unknown>>>, keys: readonly string[], file: string | undefined): ConfigOrigin {
  const fieldOf = (key: string): string => ((ENCODER_FLAGS as readonly string[]).includes(key) ? `encoder.${key}` : key);
  const all = [...keys, ...ENCODER_FLAGS];
  return {
    ...(file === undefined ? {} : { file }),
    flags: Object.fromEntries(all.map((k) => [fieldOf(k), flagOf(k)])),
    fromFlags: new Set(all.filter((k) => flags[k] !== undefined).map(fieldOf)),
  };
}

/**
 * A config file's object with flags laid over it: `keys` name the flags that are top-level fields, and the
 * encoder sizes (--layers --hidden --heads --ffn) go into `encoder`.
 */
export function mergeFlags(
  base: Record<string, unknown>,
  flags: Readonly<Partial<Record<string, unknown>>>,
  keys: readonly string[],
): Record<string, unknown> {
  const encoder = { ...(base.encoder as Record<string, unknown> | undefined) };
  for (const key of ENCODER_FLAGS) if (flags[key] !== undefined) encoder[key] = flags[key];
  const overrides = Object.fromEntries(keys.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
  const merged: Record<string, unknown> = { ...base, ...overrides, ...(Object.keys(encoder).length > 0 ? { encoder } : {}) };
  return flags.qatWeightBits === undefined ? merged : { ...merged, qat: { ...qatObject(merged.qat), weightBits: flags.qatWeightBits } };
}

/** `qat` as its object form (the flag's mode, true, or the object itself), for --qat-weight-bits to set a field of. */
function qatObject(qat: unknown): Record<string, unknown> {
  if (qat === undefined || qat === false) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--qat-weight-bits' }, message: 'a weight grid is for quantization-aware training only', hint: 'add --qat (or `qat` in the --config file), or drop --qat-weight-bits' });
  }
  if (typeof qat === 'string') return { activations: qat };
  return qat === true ? {} : { ...(qat as Record<string, unknown>) };
}

/** Flags override the config file; the merged object is validated as a whole. */
export function resolveConfig(flags: TrainFlags): TrainConfig {
  const base = flags.config ? readConfigFile(flags.config) : {};
  const keys = ALL_TRAIN_FLAGS.filter((k) => !(ENCODER_FLAGS as readonly string[]).includes(k) && k !== 'qatWeightBits');
  const given = flags as Record<string, unknown>;
  return parseTrainConfig(mergeFlags(base, given, keys), configOrigin(given, keys, flags.config));
}

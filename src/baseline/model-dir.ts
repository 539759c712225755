// A baseline on disk: baseline.json (format, settings, task schema, per-task fit and thresholds, the out-of-fold
// models' fits when there are some) and weights.safetensors (per task: the kept buckets, their idf, the weights and
// biases; fold k's under `fold-<k>.`), written atomically.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../checkpoint/safetensors.ts';
import { DataError, parseTaskSchema, taskSchemaToJson, type Task } from '../data/index.ts';
import { type OutputSpec, recoverDir, writeOutputDir } from '../util/output-dir.ts';
import { XlmtError } from '../errors/index.ts';
import { checkFeatureSettings } from './features.ts';
import type { TaskHead } from './fit.ts';
import { BaselineModel, type BaselineTask } from './model.ts';

export const BASELINE_FILE = 'baseline.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const BASELINE_FORMAT = 'xlmt-baseline';
export const BASELINE_VERSION = 1;

const range = z.strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) });

const FitSchema = z.strictObject({
  rows: z.number().int(),
  features: z.number().int(),
  iterations: z.number().int(),
  evaluations: z.number().int(),
  loss: z.number(),
  stop: z.enum(['gradient', 'no-progress', 'max-iterations', 'line-search']),
  seconds: z.number(),
});

const BaselineJson = z.strictObject({
  format: z.literal(BASELINE_FORMAT),
  version: z.literal(BASELINE_VERSION),
  settings: z.strictObject({
    charNgrams: range,
    wordNgrams: range,
    buckets: z.number().int().positive(),
    /** How n-grams become buckets; the only one so far, named so a later change cannot load silently. */
    hash: z.literal('crc32-utf8'),
    c: z.number().positive(),
    iterations: z.number().int().positive(),
  }),
  tasks: z.record(z.string(), z.unknown()),
  heads: z.record(z.string(), z.strictObject({
    features: z.number().int().min(0),
    thresholds: z.array(z.number()).nullable(),
    fit: FitSchema,
  })),
  /** Free-form provenance: data files, dev scores. */
  info: z.record(z.string(), z.unknown()).default({}),
  /** Out-of-fold models (folds.ts), their tensors under `fold-<k>.`; absent for a baseline without. */
  folds: z.strictObject({
    /** How a text's fold is found, named so a later change cannot load silently. */
    assign: z.literal('crc32-utf8-mod-count'),
    heads: z.array(z.record(z.string(), z.strictObject({ features: z.number().int().min(0), fit: FitSchema }))).min(2),
  }).optional(),
});

type BaselineJson = z.infer<typeof BaselineJson>;

/**
 * Writes the baseline as `output` (a new directory, or an earlier baseline replaced whole: see util/output-dir.ts),
 * with its out-of-fold models' heads when there are some.
 */
export async function saveBaseline(output: OutputSpec, model: BaselineModel, info: Record<string, unknown> = {}, folds: readonly (readonly BaselineTask[])[] = []): Promise<void> {
  const { features, fit } = model.settings;
  const json: BaselineJson = {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    settings: { charNgrams: features.charNgrams, wordNgrams: features.wordNgrams, buckets: features.buckets, hash: 'crc32-utf8', c: fit.c, iterations: fit.iterations },
    tasks: taskSchemaToJson(model.schema),
    heads: Object.fromEntries(model.tasks.map((t) => [t.task.name, { features: t.head.vocab.buckets.length, thresholds: t.thresholds ? [...t.thresholds] : null, fit: t.report }])),
    info,
    ...(folds.length > 0 ? {
      folds: {
        assign: 'crc32-utf8-mod-count' as const,
        heads: folds.map((tasks) => Object.fromEntries(tasks.map((t) => [t.task.name, { features: t.head.vocab.buckets.length, fit: t.report }]))),
      },
    } : {}),
  };
  const tensors: [string, SafeTensor][] = [];
  const addHeads = (prefix: string, tasks: readonly BaselineTask[]): void => {
    for (const { task, head } of tasks) {
      const d = head.vocab.buckets.length;
      const k = task.labels.length;
      tensors.push(
        [`${prefix}${task.name}.buckets`, tensor('I32', [d], head.vocab.buckets)],
        [`${prefix}${task.name}.idf`, tensor('F32', [d], head.vocab.idf)],
        [`${prefix}${task.name}.weight`, tensor('F32', [d, k], head.weights)],
        [`${prefix}${task.name}.bias`, tensor('F32', [k], head.bias)],
      );
    }
  };
  addHeads('', model.tasks);
  folds.forEach((tasks, k) => addHeads(foldPrefix(k), tasks));
  await writeOutputDir(output, async (tmp) => {
    await mkdir(tmp, { recursive: true });
    await writeSafetensors(join(tmp, WEIGHTS_FILE), tensors, { producer: 'xlmt baseline' });
    await writeFile(join(tmp, BASELINE_FILE), `${JSON.stringify(json, null, 2)}\n`);
  });
}

export interface LoadedBaseline {
  readonly model: BaselineModel;
  readonly info: Readonly<Record<string, unknown>>;
  /** The out-of-fold models, fold k's at index k (folds.ts); empty for a baseline without. */
  readonly folds: readonly BaselineModel[];
}

/** Where fold k's tensors are kept (k from 0; named from 1). */
const foldPrefix = (k: number): string => `fold-${k + 1}.`;

export async function loadBaseline(dir: string): Promise<LoadedBaseline> {
  await recoverDir(dir);
  const file = join(dir, BASELINE_FILE);
  if (!existsSync(dir)) throw new XlmtError({ code: 'NOT_A_MODEL', where: { field: '--model' }, message: `no directory ${dir}`, hint: 'Train one with xlmt baseline train --out DIR' });
  if (!existsSync(file)) throw new XlmtError({ code: 'NOT_A_MODEL', where: { field: '--model' }, message: `${dir} holds no ${BASELINE_FILE}, so it is no baseline directory`, hint: 'Name a directory written by xlmt baseline train (models of xlmt train are evaluated with xlmt eval)' });
  const json = parseJson(file, await readFile(file, 'utf8'));
  const schema = withFile(file, 'tasks', () => parseTaskSchema(json.tasks, file));
  checkFeatureSettings(json.settings, { file });
  const weightsFile = join(dir, WEIGHTS_FILE);
  // Checkpoint errors (a bad header, NaN weights) name the file and tensor already.
  const tensors: ReadonlyMap<string, SafeTensor> = (await readSafetensors(weightsFile)).tensors;
  const cols = 2 * json.settings.buckets;
  const tasks: BaselineTask[] = schema.tasks.map((task) => {
    const meta = json.heads[task.name];
    if (!meta) throw new XlmtError({ code: 'BAD_MODEL', where: { file }, message: `heads has no entry for task ${task.name}`, expected: `heads for ${schema.tasks.map((t) => t.name).join(', ')}`, received: Object.keys(json.heads).join(', ') || 'none' });
    const head = readHead(weightsFile, tensors, '', task, meta.features, cols);
    const thresholds = task.type === 'multilabel' ? (meta.thresholds ?? task.labels.map(() => 0.5)) : null;
    if (thresholds !== null && thresholds.length !== task.labels.length) {
      throw new XlmtError({ code: 'BAD_MODEL', where: { file, field: `heads.${task.name}.thresholds` }, message: 'need one threshold per label', expected: `${task.labels.length} numbers`, received: `${thresholds.length}` });
    }
    return { task, head, thresholds, report: meta.fit };
  });
  const settings = {
    features: { charNgrams: json.settings.charNgrams, wordNgrams: json.settings.wordNgrams, buckets: json.settings.buckets },
    fit: { c: json.settings.c, iterations: json.settings.iterations },
  };
  const folds = (json.folds?.heads ?? []).map((heads, k) => new BaselineModel(settings, schema, schema.tasks.map((task) => {
    const meta = heads[task.name];
    if (!meta) throw new XlmtError({ code: 'BAD_MODEL', where: { file, field: `folds.heads[${k}]` }, message: `no entry for task ${task.name}`, received: Object.keys(heads).join(', ') || 'none' });
    const head = readHead(weightsFile, tensors, foldPrefix(k), task, meta.features, cols);
    return { task, head, thresholds: task.type === 'multilabel' ? task.labels.map(() => 0.5) : null, report: meta.fit };
  })));
  return { model: new BaselineModel(settings, schema, tasks), info: json.info, folds };
}

function parseJson(file: string, text: string): BaselineJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new XlmtError({ code: 'BAD_MODEL', where: { file }, message: `invalid JSON: ${(e as Error).message}` });
  }
  const head = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  if (head['format'] !== BASELINE_FORMAT || head['version'] !== BASELINE_VERSION) {
    throw new XlmtError({ code: 'BAD_MODEL', where: { file }, message: 'not a baseline this version of xlmt reads',
      expected: `format ${JSON.stringify(BASELINE_FORMAT)}, version ${BASELINE_VERSION}`,
      received: `format ${JSON.stringify(head['format'])}, version ${JSON.stringify(head['version'])}`,
      hint: 'Train the baseline again with this version (xlmt baseline train)' });
  }
  const parsed = BaselineJson.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new XlmtError({ code: 'BAD_MODEL', where: { file }, message: `invalid baseline description: ${issues}` });
  }
  return parsed.data;
}

function withFile<T>(file: string, field: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof DataError) throw new XlmtError({ code: 'BAD_MODEL', where: { file, field }, message: e.message });
    throw e;
  }
}

function readHead(file: string, tensors: ReadonlyMap<string, SafeTensor>, prefix: string, task: Task, features: number, cols: number): TaskHead {
  const k = task.labels.length;
  const get = (name: string, dtype: SafeTensor['dtype'], shape: readonly number[]): Uint8Array => {
    const key = `${prefix}${task.name}.${name}`;
    const t = tensors.get(key);
    if (!t) throw new XlmtError({ code: 'BAD_MODEL', where: { file, tensor: key }, message: 'no such tensor', hint: 'The file is incomplete or belongs to another baseline' });
    if (t.dtype !== dtype || t.shape.join(',') !== shape.join(',')) {
      throw new XlmtError({ code: 'BAD_MODEL', where: { file, tensor: key }, message: 'wrong type or shape', expected: `${dtype} [${shape.join(', ')}]`, received: `${t.dtype} [${t.shape.join(', ')}]` });
    }
    return t.bytes.slice(); // own, aligned memory
  };
  const buckets = new Int32Array(get('buckets', 'I32', [features]).buffer);
  for (let j = 0; j < buckets.length; j++) {
    if (buckets[j]! < 0 || buckets[j]! >= cols || (j > 0 && buckets[j]! <= buckets[j - 1]!)) {
      throw new XlmtError({ code: 'BAD_MODEL', where: { file, tensor: `${prefix}${task.name}.buckets` }, message: `entry ${j} is out of order or range`, expected: `ascending buckets below ${cols}`, received: String(buckets[j]) });
    }
  }
  return {
    vocab: { buckets, idf: new Float32Array(get('idf', 'F32', [features]).buffer) },
    weights: new Float32Array(get('weight', 'F32', [features, k]).buffer),
    bias: new Float32Array(get('bias', 'F32', [k]).buffer),
  };
}

function tensor(dtype: 'I32' | 'F32', shape: readonly number[], data: Int32Array | Float32Array): SafeTensor {
  return { dtype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

// A trained model on disk, in Hugging Face layout: config.json, model.safetensors and tokenizer.json, plus
// tasks.json and xlmt.json (heads, pooling, positions, multilabel thresholds, scores).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GraphBuilder } from '../builder/builder.ts';
import { CLASSIFIER_PREFIX, type HfModelConfig, type KeyReport, loadHfModel, mapCheckpoint, saveHfModel, taskHeadPrefix } from '../checkpoint/index.ts';
import { loadTaskSchema, type Task, taskSchemaToJson, type TaskSchema } from '../data/index.ts';
import type { ParamStore } from '../ir/params.ts';
import { HEAD_STYLES, transformersHead } from '../models/heads.ts';
import { multiTaskClassifier } from '../models/multitask.ts';
import { TextTokenizer } from '../tokenize/index.ts';
import { recoverDir, replaceDir } from '../util/output-dir.ts';
import { XlmtError } from '../errors/index.ts';

export const MODEL_META_FILE = 'xlmt.json';
export const TASKS_FILE = 'tasks.json';
export const TOKENIZER_FILE = 'tokenizer.json';

const ModelMetaSchema = z.strictObject({
  format: z.literal('xlmt-model'),
  version: z.literal(1),
  pooling: z.enum(['cls', 'mean']),
  /** Models written before head styles existed have linear heads. */
  headStyle: z.enum(HEAD_STYLES).default('linear'),
  maxLength: z.number().int().positive(),
  padId: z.number().int().min(0),
  positions: z.union([
    z.strictObject({ convention: z.literal('bert') }),
    z.strictObject({ convention: z.literal('roberta'), paddingIdx: z.number().int().min(0) }),
  ]),
  /** Multilabel decision thresholds per task, tuned on dev. */
  thresholds: z.record(z.string(), z.array(z.number())),
  /** Free-form provenance: run, epoch, dev scores. */
  info: z.record(z.string(), z.unknown()).default({}),
});

export type ModelMeta = z.infer<typeof ModelMetaSchema>;

export interface TrainedModel {
  readonly hf: HfModelConfig;
  readonly params: ParamStore;
  readonly tokenizer: TextTokenizer;
  readonly schema: TaskSchema;
  readonly meta: ModelMeta;
  /** What loading found in model.safetensors beyond the graph's parameters (such as a pretraining head). */
  readonly report?: KeyReport;
}

/**
 * The task of a model that transformers can load as its *ForSequenceClassification class, or null: one task,
 * CLS pooling and the head that class has for the model type. Such a model is saved with its head under
 * `classifier.*` and its labels as id2label (and `problem_type` for multilabel), so it loads there as is.
 */
export function transformersClassifierTask(hf: HfModelConfig, schema: TaskSchema, meta: Pick<ModelMeta, 'pooling' | 'headStyle'>): Task | null {
  const [task, ...others] = schema.tasks;
  if (!task || others.length > 0 || meta.pooling !== 'cls' || meta.headStyle !== transformersHead(hf.modelType)) return null;
  return task;
}

/** The checkpoint a model directory holds: its parameters and config.json, in transformers' layout where it fits one. */
function checkpointOf(model: TrainedModel): { config: HfModelConfig; params: ParamStore } {
  const task = transformersClassifierTask(model.hf, model.schema, model.meta);
  if (!task) return { config: model.hf, params: model.params };
  const head = taskHeadPrefix(task.name);
  const params: ParamStore = new Map([...model.params].map(([name, p]) => {
    const saved = name.startsWith(head) ? CLASSIFIER_PREFIX + name.slice(head.length) : name;
    return [saved, { ...p, name: saved }];
  }));
  const problemType = task.type === 'multilabel' ? 'multi_label_classification' : 'single_label_classification';
  return { config: { ...model.hf, labels: task.labels, extra: { ...model.hf.extra, problem_type: problemType } }, params };
}

/** Writes the model's files into `dir` (a directory being written whole: see util/output-dir.ts). */
export async function writeModelFiles(dir: string, model: TrainedModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveHfModel(dir, { ...checkpointOf(model), metadata: { producer: 'xlmt' } });
  model.tokenizer.save(join(dir, TOKENIZER_FILE));
  await writeFile(join(dir, TASKS_FILE), `${JSON.stringify(taskSchemaToJson(model.schema), null, 2)}\n`);
  await writeFile(join(dir, MODEL_META_FILE), `${JSON.stringify(model.meta, null, 2)}\n`);
}

/** Replaces a model directory inside a training run (best/), which the run owns. */
export async function saveModelDir(dir: string, model: TrainedModel): Promise<void> {
  await replaceDir(dir, 'train', (tmp) => writeModelFiles(tmp, model));
}

/** xlmt.json of a model or export directory, validated. */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const metaPath = join(dir, MODEL_META_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new XlmtError({
      code: missing ? 'NOT_A_MODEL' : 'BAD_MODEL', message: missing ? 'no model description (xlmt.json) here' : `cannot read the model description (${(e as Error).message})`,
      where: { file: metaPath }, hint: `is ${dir} a model directory written by xlmt?`,
    }, { cause: e });
  }
  const parsed = ModelMetaSchema.safeParse(raw);
  if (!parsed.success) {
    throw new XlmtError({ code: 'BAD_MODEL', message: `invalid model description: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, where: { file: metaPath } });
  }
  return parsed.data;
}

export async function loadModelDir(dir: string): Promise<TrainedModel> {
  await recoverDir(dir);
  const meta = await readModelMeta(dir);
  const schema = await loadTaskSchema(join(dir, TASKS_FILE));
  const tokenizer = TextTokenizer.fromFile(join(dir, TOKENIZER_FILE));
  const checkpoint = await loadHfModel(dir);
  // Mapped onto the parameters the inference graph expects, so missing or mis-shaped tensors are named.
  const g = new GraphBuilder('expected');
  multiTaskClassifier(g, checkpoint.config.encoder, schema.tasks, { training: false, pooling: meta.pooling, headStyle: meta.headStyle });
  const classifierTask = transformersClassifierTask(checkpoint.config, schema, meta)?.name;
  const expected = g.build().params.map((p) => ({ name: p.name, shape: p.shape as number[] }));
  const { params, report } = mapCheckpoint(expected, checkpoint.tensors, { source: dir, ...(classifierTask ? { classifierTask } : {}) });
  return { hf: checkpoint.config, params, tokenizer, schema, meta, report };
}

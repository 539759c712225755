// A trained model on disk, in Hugging Face layout: config.json, model.safetensors and tokenizer.json, plus
// tasks.json and xlmt.json (the format: model-dir/). Loading maps the checkpoint onto the parameters of the
// graph the model builds, so it lives here, with training, and serving reads exports through model-dir/.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../builder/builder.ts';
import { CLASSIFIER_PREFIX, type HfModelConfig, type KeyReport, loadHfModel, mapCheckpoint, saveHfModel, taskHeadPrefix } from '../checkpoint/index.ts';
import { loadTaskSchema, type Task, taskSchemaToJson, type TaskSchema } from '../data/index.ts';
import type { ParamStore } from '../ir/params.ts';
import { MODEL_META_FILE, readModelMeta, TASKS_FILE, TOKENIZER_FILE, type ModelMeta } from '../model-dir/index.ts';
import { transformersHead } from '../models/heads.ts';
import { multiTaskClassifier } from '../models/multitask.ts';
import { TextTokenizer } from '../tokenize/index.ts';
import { recoverDir, replaceDir } from '../util/output-dir.ts';

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

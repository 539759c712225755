// A trained model on disk, in Hugging Face layout: config.json, model.safetensors and tokenizer.json, plus
// tasks.json and xlmt.json (heads, pooling, positions, multilabel thresholds, scores).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GraphBuilder } from '../builder/builder.ts';
import { type HfModelConfig, type KeyReport, loadHfModel, mapCheckpoint, saveHfModel } from '../checkpoint/index.ts';
import { loadTaskSchema, taskSchemaToJson, type TaskSchema } from '../data/index.ts';
import type { ParamStore } from '../ir/params.ts';
import { multiTaskClassifier } from '../models/multitask.ts';
import { TextTokenizer } from '../tokenize/index.ts';
import { recoverDir, replaceDir } from '../util/atomic-dir.ts';

export const MODEL_META_FILE = 'xlmt.json';
export const TASKS_FILE = 'tasks.json';
export const TOKENIZER_FILE = 'tokenizer.json';

const ModelMetaSchema = z.strictObject({
  format: z.literal('xlmt-model'),
  version: z.literal(1),
  pooling: z.enum(['cls', 'mean']),
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

export async function saveModelDir(dir: string, model: TrainedModel): Promise<void> {
  await replaceDir(dir, async (tmp) => {
    await mkdir(tmp, { recursive: true });
    await saveHfModel(tmp, { config: model.hf, params: model.params, metadata: { producer: 'xlmt' } });
    model.tokenizer.save(join(tmp, TOKENIZER_FILE));
    await writeFile(join(tmp, TASKS_FILE), `${JSON.stringify(taskSchemaToJson(model.schema), null, 2)}\n`);
    await writeFile(join(tmp, MODEL_META_FILE), `${JSON.stringify(model.meta, null, 2)}\n`);
  });
}

/** xlmt.json of a model or export directory, validated. */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const metaPath = join(dir, MODEL_META_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch (e) {
    throw new Error(`${metaPath}: cannot read the model description (${(e as Error).message}); is ${dir} a model directory written by xlmt?`);
  }
  const parsed = ModelMetaSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${metaPath}: invalid model description\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
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
  multiTaskClassifier(g, checkpoint.config.encoder, schema.tasks, { training: false, pooling: meta.pooling });
  const { params, report } = mapCheckpoint(g.build().params.map((p) => ({ name: p.name, shape: p.shape as number[] })), checkpoint.tensors, { source: dir });
  return { hf: checkpoint.config, params, tokenizer, schema, meta, report };
}

// xlmt.json, the model description beside the Hugging Face files: head style, pooling, positions, padding, the
// longest input, multilabel thresholds and provenance. Training, export, serving and prediction all read it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { XlmtError } from '../errors/index.ts';
import { MODEL_META_FILE } from './files.ts';

/**
 * How the sentence vector becomes a task's logits: xlmt's linear head, or transformers' BERT or RoBERTa
 * classification head. The format records the choice; models/heads.ts (taskLogits) builds each.
 */
export const HEAD_STYLES = ['linear', 'bert', 'roberta'] as const;

/** An int8 weight grid: 8 bits (codes −127…127) or 7 (−63…63), export/cpu-features.ts says which a CPU needs. */
export const WeightBitsSchema = z.union([z.literal(7), z.literal(8)]);
export type HeadStyle = (typeof HEAD_STYLES)[number];

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
  /**
   * A model trained with quantization-aware training (`xlmt train --qat`): how it was fake-quantized, for a static
   * int8 export. `inputRanges`: per activation quantizer, named by its dense layer (the weight's name without
   * `.weight`; query, key and value share the query's), the range its input was quantized with, its int8 scale
   * range/127. Weights need none: their scales are max|W|/127 per output channel of the weights as saved, or
   * max|W|/63 with `weightBits` 7 (absent: 8, as every QAT model before the field was).
   */
  quantization: z.strictObject({
    method: z.literal('qat'),
    activations: z.enum(['ema', 'lsq']),
    wordEmbeddings: z.boolean(),
    weightBits: WeightBitsSchema.optional(),
    inputRanges: z.record(z.string(), z.number().min(0)),
  }).optional(),
  /** Free-form provenance: run, epoch, dev scores. */
  info: z.record(z.string(), z.unknown()).default({}),
});

export type ModelMeta = z.infer<typeof ModelMetaSchema>;

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

// Hugging Face config.json for BERT, RoBERTa and XLM-R: parsed into an EncoderConfig plus what loading needs, and
// written back in the form transformers reads.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type EncoderConfig, encoderConfig } from '../models/config.ts';
import { writeFileAtomic } from './atomic.ts';
import { XlmtError } from '../errors/index.ts';
import { CheckpointError, describeIssue, issuePath, readFailure } from './errors.ts';
import { labelsFromJson, labelsToJson } from './hf-labels.ts';
import { sortKeys } from '../util/sort-keys.ts';

export const HF_MODEL_TYPES = ['bert', 'roberta', 'xlm-roberta'] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

/**
 * How position ids count. 'bert': 0, 1, 2, … 'roberta': padTokenId + 1, padTokenId + 2, … for tokens, and
 * padTokenId for padding (fairseq's convention, kept by transformers' RoBERTa and XLM-R).
 */
export type PositionConvention = 'bert' | 'roberta';

export interface HfModelConfig {
  readonly modelType: HfModelType;
  readonly encoder: EncoderConfig;
  readonly padTokenId: number;
  readonly positions: PositionConvention;
  /** transformers class names, e.g. ["BertForSequenceClassification"]; empty when the file has none. */
  readonly architectures: readonly string[];
  /** Label names by class id (id2label), or null when the file has none. */
  readonly labels: readonly string[] | null;
  /** Every other field of the file (bos_token_id, tokenizer_class, …), written back unchanged. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface ParsedHfConfig {
  readonly config: HfModelConfig;
  /** Things worth telling the user that do not stop loading: defaulted fields, inconsistent label2id. */
  readonly warnings: readonly string[];
}

export function positionConvention(modelType: HfModelType): PositionConvention {
  return modelType === 'bert' ? 'bert' : 'roberta';
}

/** The position id of a sequence's first token. */
export function firstPositionId(config: HfModelConfig): number {
  return config.positions === 'roberta' ? config.padTokenId + 1 : 0;
}

/** The longest sequence the position table covers: 512 for XLM-R's 514 rows (rows 0 and 1 are never used). */
export function maxSequenceLength(config: HfModelConfig): number {
  return config.encoder.maxPositionEmbeddings - firstPositionId(config);
}

// transformers fills absent fields from the config class's defaults; so does this parser, so that one file means
// one model everywhere. BertConfig, RobertaConfig and XLMRobertaConfig share these, except pad_token_id.
const DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
} as const;

const DEFAULT_PAD: Record<HfModelType, number> = { bert: 0, roberta: 1, 'xlm-roberta': 1 };

const count = z.int().min(1);
const probability = z.number().min(0).lt(1);

const schema = z.object({
  model_type: z.enum(HF_MODEL_TYPES),
  vocab_size: count.optional(),
  hidden_size: count.optional(),
  num_hidden_layers: count.optional(),
  num_attention_heads: count.optional(),
  intermediate_size: count.optional(),
  max_position_embeddings: count.optional(),
  type_vocab_size: count.optional(),
  layer_norm_eps: z.number().gt(0).optional(),
  hidden_dropout_prob: probability.optional(),
  attention_probs_dropout_prob: probability.optional(),
  // xlmt's encoder computes exact (erf) GELU and absolute position embeddings only.
  hidden_act: z.literal('gelu').optional(),
  position_embedding_type: z.literal('absolute').optional(),
  pad_token_id: z.int().min(0).nullable().optional(),
  architectures: z.array(z.string()).nullable().optional(),
  id2label: z.record(z.string(), z.string()).optional(),
  label2id: z.record(z.string(), z.int()).optional(),
  num_labels: z.int().min(1).optional(),
  // transformers' map of removed heads, layer index (a string in JSON) → head indices before pruning.
  pruned_heads: z.record(z.string().regex(/^\d+$/, 'a layer index'), z.array(z.int().min(0))).optional(),
  // xlmt's own: the FFN size of each layer, which transformers' config cannot express.
  xlmt_intermediate_sizes: z.array(count).optional(),
});

const HINTS: Readonly<Record<string, string>> = {
  model_type: 'only BERT-architecture encoders load: bert, roberta and xlm-roberta checkpoints',
  hidden_act: 'the encoder implements exact GELU ("gelu") only; a model trained with another activation would load but compute something else',
  position_embedding_type: 'relative position embeddings are not implemented',
};

// Fields this module owns: parsed into the typed config and regenerated on write. torch_dtype/dtype and
// transformers_version describe the file's producer, not the model, and would be stale after xlmt writes float32.
const OWNED = new Set([...Object.keys(schema.shape), 'torch_dtype', 'dtype', 'transformers_version']);

/** Validates a parsed config.json; `source` (its path) is named in every error. */
export function parseHfConfig(json: unknown, source: string): ParsedHfConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError({ code: 'BAD_CONFIG', file: source, problem: 'config is not a JSON object' });
  }
  const parsed = schema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issuePath(issue.path) : '';
    const described = issue ? describeIssue(issue) : { problem: 'invalid config' };
    const hint = HINTS[field];
    throw new CheckpointError({ code: 'BAD_CONFIG', file: source, field, ...described, ...(hint ? { hint } : {}) });
  }
  const c = parsed.data;
  const warnings: string[] = [];
  const pick = <K extends keyof typeof DEFAULTS>(key: K): number => {
    const value = c[key];
    if (value !== undefined) return value;
    warnings.push(`field "${key}" is absent; using transformers' default ${DEFAULTS[key]}`);
    return DEFAULTS[key];
  };
  const hiddenSize = pick('hidden_size');
  const numAttentionHeads = pick('num_attention_heads');
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new CheckpointError({
      code: 'BAD_CONFIG',
      file: source,
      field: 'hidden_size',
      problem: `not divisible by num_attention_heads ${numAttentionHeads}`,
      expected: `a multiple of ${numAttentionHeads}`,
      received: String(hiddenSize),
    });
  }
  const encoder = inConfigFile(() => encoderConfig({
    vocabSize: pick('vocab_size'),
    hiddenSize,
    numHiddenLayers: pick('num_hidden_layers'),
    numAttentionHeads,
    intermediateSize: pick('intermediate_size'),
    maxPositionEmbeddings: pick('max_position_embeddings'),
    typeVocabSize: pick('type_vocab_size'),
    layerNormEps: pick('layer_norm_eps'),
    hiddenDropoutProb: pick('hidden_dropout_prob'),
    attentionProbsDropoutProb: pick('attention_probs_dropout_prob'),
    ...layerFields(c.pruned_heads, c.xlmt_intermediate_sizes),
  }), source);
  const padTokenId = c.pad_token_id ?? DEFAULT_PAD[c.model_type];
  if (c.pad_token_id === undefined) warnings.push(`field "pad_token_id" is absent; using transformers' default ${padTokenId}`);
  if (c.pad_token_id === null) {
    if (positionConvention(c.model_type) === 'roberta') {
      throw new CheckpointError({ code: 'BAD_CONFIG', file: source, field: 'pad_token_id', problem: `null, but ${c.model_type} position ids are counted from it`, expected: 'a token id' });
    }
    warnings.push(`field "pad_token_id" is null; using ${padTokenId}`);
  }
  const config = hfModelConfig(encoder, {
    modelType: c.model_type,
    padTokenId,
    architectures: c.architectures ?? [],
    labels: labelsFromJson(c.id2label, c.label2id, c.num_labels, source, warnings),
    extra: Object.fromEntries(Object.entries(json).filter(([key]) => !OWNED.has(key))),
  });
  checkPositions(config, source);
  return { config, warnings };
}

/** encoderConfig's checks of the per-layer fields, reported against config.json's own field names. */
function inConfigFile(make: () => EncoderConfig, source: string): EncoderConfig {
  try {
    return make();
  } catch (e) {
    const field = e instanceof XlmtError ? e.where?.field : undefined;
    if (!(e instanceof XlmtError) || field === undefined) throw e;
    const named = field.replace(/^prunedHeads/, 'pruned_heads').replace(/^intermediateSizes/, 'xlmt_intermediate_sizes');
    throw new CheckpointError({ code: 'BAD_CONFIG', file: source, field: named, problem: e.message, ...(e.expected ? { expected: e.expected } : {}), ...(e.received ? { received: e.received } : {}) }, { cause: e });
  }
}

/** The per-layer fields against the layer and head counts; errors name the config field. */
function layerFields(prunedHeads: Record<string, number[]> | undefined, sizes: number[] | undefined): Pick<EncoderConfig, 'prunedHeads' | 'intermediateSizes'> {
  return {
    ...(prunedHeads ? { prunedHeads: Object.fromEntries(Object.entries(prunedHeads).map(([k, v]) => [Number(k), v])) } : {}),
    ...(sizes ? { intermediateSizes: sizes } : {}),
  };
}

function checkPositions(config: HfModelConfig, source: string): void {
  if (maxSequenceLength(config) < 1) {
    throw new CheckpointError({
      code: 'BAD_CONFIG',
      file: source,
      field: 'max_position_embeddings',
      problem: `leaves no position for tokens: ${config.modelType} positions start at pad_token_id + 1 = ${firstPositionId(config)}`,
      expected: `> ${firstPositionId(config)}`,
      received: String(config.encoder.maxPositionEmbeddings),
    });
  }
}

export async function readHfConfig(path: string): Promise<ParsedHfConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw readFailure(path, 'read', e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError({ code: 'BAD_CONFIG', file: path, problem: `not valid JSON: ${(e as Error).message}` }, { cause: e });
  }
  return parseHfConfig(json, path);
}

export interface HfModelConfigOptions {
  readonly modelType: HfModelType;
  /** Defaults to transformers' default for the model type: 0 for bert, 1 for roberta and xlm-roberta. */
  readonly padTokenId?: number;
  readonly architectures?: readonly string[];
  readonly labels?: readonly string[] | null;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A config for an encoder built in xlmt, to be saved as config.json. */
export function hfModelConfig(encoder: EncoderConfig, options: HfModelConfigOptions): HfModelConfig {
  return {
    modelType: options.modelType,
    encoder,
    padTokenId: options.padTokenId ?? DEFAULT_PAD[options.modelType],
    positions: positionConvention(options.modelType),
    architectures: options.architectures ?? [],
    labels: options.labels ?? null,
    extra: options.extra ?? {},
  };
}

/** config.json's object: `extra` fields, then every owned field regenerated from the typed config. */
export function hfConfigJson(config: HfModelConfig): Record<string, unknown> {
  const e = config.encoder;
  const json: Record<string, unknown> = {
    ...config.extra,
    model_type: config.modelType,
    vocab_size: e.vocabSize,
    hidden_size: e.hiddenSize,
    num_hidden_layers: e.numHiddenLayers,
    num_attention_heads: e.numAttentionHeads,
    intermediate_size: e.intermediateSize,
    max_position_embeddings: e.maxPositionEmbeddings,
    type_vocab_size: e.typeVocabSize,
    layer_norm_eps: e.layerNormEps,
    hidden_dropout_prob: e.hiddenDropoutProb,
    attention_probs_dropout_prob: e.attentionProbsDropoutProb,
    hidden_act: 'gelu',
    position_embedding_type: 'absolute',
    pad_token_id: config.padTokenId,
  };
  if (e.prunedHeads) json['pruned_heads'] = Object.fromEntries(Object.entries(e.prunedHeads).map(([layer, heads]) => [layer, [...heads]]));
  if (e.intermediateSizes) json['xlmt_intermediate_sizes'] = [...e.intermediateSizes];
  if (config.architectures.length > 0) json['architectures'] = [...config.architectures];
  if (config.labels) Object.assign(json, labelsToJson(config.labels));
  return json;
}

/** The text transformers' save_pretrained writes: keys sorted at every level, two-space indent, final newline. */
export function formatHfConfig(config: HfModelConfig): string {
  return `${JSON.stringify(sortKeys(hfConfigJson(config)), null, 2)}\n`;
}

export async function writeHfConfig(path: string, config: HfModelConfig): Promise<void> {
  await writeFileAtomic(path, [Buffer.from(formatHfConfig(config), 'utf8')]);
}

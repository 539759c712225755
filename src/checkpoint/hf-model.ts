// A Hugging Face model directory: config.json with model.safetensors, or shards listed in
// model.safetensors.index.json. Saved under transformers' names so the directory loads there too.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Parameter, ParamStore } from '../ir/params.ts';
import { CheckpointError } from './errors.ts';
import { type HfModelConfig, type HfModelType, readHfConfig, writeHfConfig } from './hf-config.ts';
import { readShardedSafetensors } from './hf-shards.ts';
import { type ExpectedParam, type KeyReport, LM_HEAD_ALIASES, type MapOptions, mapCheckpoint } from './keys.ts';
import { float32Tensor, readSafetensors, type SafeTensor, writeSafetensors } from './safetensors.ts';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

export interface HfModel {
  readonly config: HfModelConfig;
  /** Tensors under their names in the files (`bert.encoder.layer.0…`); keys.ts maps them to graph names. */
  readonly tensors: ReadonlyMap<string, SafeTensor>;
  /** The safetensors files read, in order. */
  readonly files: readonly string[];
  /** The `__metadata__` of the (first) weights file. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

/** Reads config.json and the weights: model.safetensors if present, else the shards its index lists. */
export async function loadHfModel(dir: string): Promise<HfModel> {
  const { config, warnings } = await readHfConfig(join(dir, CONFIG_FILE));
  const single = join(dir, WEIGHTS_FILE);
  if (await exists(single)) {
    const file = await readSafetensors(single);
    return { config, tensors: file.tensors, files: [single], metadata: file.metadata, warnings };
  }
  const index = join(dir, WEIGHTS_INDEX_FILE);
  if (await exists(index)) {
    const sharded = await readShardedSafetensors(index);
    return { config, ...sharded, warnings };
  }
  const hint = (await exists(join(dir, 'pytorch_model.bin')))
    ? 'it has pytorch_model.bin: convert it to safetensors first (transformers: save_pretrained(dir, safe_serialization=True))'
    : `name a Hugging Face model directory: ${CONFIG_FILE} with ${WEIGHTS_FILE} or a sharded ${WEIGHTS_INDEX_FILE}`;
  throw new CheckpointError({ code: 'FILE_NOT_FOUND', file: dir, problem: `no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE} in the directory`, hint });
}

export interface LoadedHfParams {
  readonly config: HfModelConfig;
  readonly params: Map<string, Parameter>;
  readonly report: KeyReport;
  readonly warnings: readonly string[];
}

/** loadHfModel, then mapCheckpoint onto the graph's parameters (see keys.ts for the rules). */
export async function loadHfParams(dir: string, expected: readonly ExpectedParam[], options: MapOptions = {}): Promise<LoadedHfParams> {
  const model = await loadHfModel(dir);
  const { params, report } = mapCheckpoint(expected, model.tensors, { source: dir, ...options });
  return { config: model.config, params, report, warnings: model.warnings };
}

const BASE_PREFIX: Readonly<Record<HfModelType, string>> = { bert: 'bert.', roberta: 'roberta.', 'xlm-roberta': 'roberta.' };
const CLASS_PREFIX: Readonly<Record<HfModelType, string>> = { bert: 'Bert', roberta: 'Roberta', 'xlm-roberta': 'XLMRoberta' };

/**
 * The name a parameter is saved under. Base-model parameters (embeddings, encoder, pooler) get the prefix that
 * transformers' task classes expect (`bert.`, or `roberta.` for both RoBERTa and XLM-R); heads stay unprefixed,
 * as transformers saves them, except that RoBERTa-family masked-LM heads take their `lm_head` names. keys.ts
 * undoes both on load, so round trips are exact.
 */
export function hfTensorName(modelType: HfModelType, name: string): string {
  if (/^(embeddings|encoder|pooler)\./.test(name)) return `${BASE_PREFIX[modelType]}${name}`;
  if (modelType !== 'bert') {
    for (const [roberta, bert] of LM_HEAD_ALIASES) {
      if (bert.endsWith('.') ? name.startsWith(bert) : name === bert) return roberta + name.slice(bert.length);
    }
  }
  return name;
}

/**
 * The transformers class the saved tensors fit: *ForMaskedLM with a masked-LM head, *ForSequenceClassification
 * with a `classifier`, else *Model (multi-task `heads.*` have no transformers class; the encoder still loads).
 */
export function architectureFor(modelType: HfModelType, params: ParamStore): string {
  if (params.has('cls.predictions.bias')) return `${CLASS_PREFIX[modelType]}ForMaskedLM`;
  if (params.has('classifier.weight') || params.has('classifier.out_proj.weight')) return `${CLASS_PREFIX[modelType]}ForSequenceClassification`;
  return `${CLASS_PREFIX[modelType]}Model`;
}

export interface SaveHfModelInput {
  readonly config: HfModelConfig;
  readonly params: ParamStore;
  /** Added to the weights' `__metadata__`; "format": "pt" is always set (transformers refuses files without it). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes model.safetensors (float32, transformers' names) and config.json (architectures set from the saved
 * parameters), each atomically; creates `dir` if needed. Returns the paths written. Tokenizer files are the
 * caller's business.
 */
export async function saveHfModel(dir: string, input: SaveHfModelInput): Promise<readonly string[]> {
  const { config, params } = input;
  const entries: [string, SafeTensor][] = [];
  for (const [name, p] of params) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (p.data.length !== size) {
      throw new CheckpointError({
        code: 'BAD_ARGUMENT',
        file: dir,
        tensor: name,
        problem: `data length does not match shape [${p.shape.join(', ')}]`,
        expected: `${size} values`,
        received: `${p.data.length} values`,
      });
    }
    entries.push([hfTensorName(config.modelType, name), float32Tensor(p.data, p.shape)]);
  }
  await mkdir(dir, { recursive: true });
  const weights = join(dir, WEIGHTS_FILE);
  const configPath = join(dir, CONFIG_FILE);
  await writeSafetensors(weights, entries, { ...input.metadata, format: 'pt' });
  await writeHfConfig(configPath, { ...config, architectures: [architectureFor(config.modelType, params)] });
  return [weights, configPath];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

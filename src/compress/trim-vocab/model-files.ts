// The files of a model or export directory that hold token ids beside the tokenizer: config.json (vocab_size,
// pad_token_id, bos_token_id…) and xlmt.json (padId). Both are rewritten as JSON, every other field kept as it is.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from '../../checkpoint/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { ONNX_DIR, ONNX_FILE } from '../../infer/contract.ts';
import { MODEL_META_FILE, readModelMeta, type ModelMeta } from '../../model-dir/index.ts';
import { resolveModelDir } from '../../train/assess.ts';
import type { IdMap } from './id-map.ts';

/** What --model named: a model directory (a run's best/ included) or an export directory. */
export interface TrimSource {
  readonly kind: 'model' | 'export';
  readonly dir: string;
}

/** An export (xlmt.json beside onnx/model.onnx, no weights) is taken as it is; anything else as resolveModelDir does. */
export function resolveTrimSource(path: string): TrimSource {
  const isExport = existsSync(join(path, MODEL_META_FILE)) && existsSync(join(path, ONNX_DIR, ONNX_FILE))
    && !existsSync(join(path, WEIGHTS_FILE)) && !existsSync(join(path, WEIGHTS_INDEX_FILE));
  return isExport ? { kind: 'export', dir: path } : { kind: 'model', dir: resolveModelDir(path) };
}

/** config.json and xlmt.json as read: parsed objects, and the validated description. */
export interface ModelFiles {
  readonly config: Readonly<Record<string, unknown>>;
  readonly meta: ModelMeta;
  readonly metaJson: Readonly<Record<string, unknown>>;
}

export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const meta = await readModelMeta(dir);
  const metaJson = await readJsonObject(join(dir, MODEL_META_FILE));
  const config = await readJsonObject(join(dir, CONFIG_FILE));
  return { config, meta, metaJson };
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new XlmtError({ code: missing ? 'FILE_NOT_FOUND' : 'BAD_MODEL', where: { file: path }, message: missing ? 'no such file' : `cannot read it: ${(e as Error).message}` }, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new XlmtError({ code: 'BAD_MODEL', where: { file: path }, message: 'not a JSON object' });
  }
  return json as Record<string, unknown>;
}

/** config.json fields that hold a token id: pad_token_id, bos_token_id, eos_token_id, sep_token_id… */
function tokenIdFields(config: Readonly<Record<string, unknown>>): [string, number][] {
  return Object.entries(config).flatMap(([key, value]) => (key.endsWith('_token_id') && Number.isInteger(value) ? [[key, value as number] as [string, number]] : []));
}

/** The token ids the model's files name; trimming keeps them all. */
export function modelTokenIds(files: ModelFiles): number[] {
  return [files.meta.padId, ...tokenIdFields(files.config).map(([, id]) => id)];
}

/**
 * The id below which every id is kept. RoBERTa and XLM-R number positions from pad_token_id (transformers gives
 * padding the position pad_token_id and real tokens the next ones), so their pad id must not move: every id below
 * it is kept (for XLM-R, only <s>).
 */
export function fixedPadBound(files: ModelFiles): number {
  const pad = files.config['pad_token_id'];
  const robertaFamily = files.config['model_type'] === 'roberta' || files.config['model_type'] === 'xlm-roberta';
  const fromConfig = robertaFamily && Number.isInteger(pad) ? (pad as number) : 0;
  return Math.max(fromConfig, files.meta.positions.convention === 'roberta' ? files.meta.padId : 0);
}

export function trimmedConfigJson(files: ModelFiles, map: IdMap): string {
  const ids = Object.fromEntries(tokenIdFields(files.config).map(([key, id]) => [key, map.keptId(id, `config.json ${key}`)]));
  return `${JSON.stringify({ ...files.config, vocab_size: map.size, ...ids }, null, 2)}\n`;
}

/** xlmt.json with the new pad id and, under info.trimVocab, where the model came from and how it was trimmed. */
export function trimmedMetaJson(files: ModelFiles, map: IdMap, provenance: Readonly<Record<string, unknown>>): string {
  const info = typeof files.metaJson['info'] === 'object' && files.metaJson['info'] !== null ? files.metaJson['info'] : {};
  const meta = { ...files.metaJson, padId: map.keptId(files.meta.padId, 'the pad token'), info: { ...info, trimVocab: provenance } };
  return `${JSON.stringify(meta, null, 2)}\n`;
}

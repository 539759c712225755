// `xlmt bench infer --model DIR`: a model directory's shape, timed beside the shape of the model its compression
// passes began from (xlmt.json's info.compression records the first pass's source), random weights for both.
import { join } from 'node:path';
import { CONFIG_FILE, type HfModelConfig, readHfConfig } from '../checkpoint/index.ts';
import { readModelMeta } from '../model-dir/index.ts';
import type { EncoderConfig } from '../models/config.ts';
import { resolveModelDir } from '../train/assess.ts';

export interface DirModel {
  readonly name: string;
  readonly referenceLabel?: string;
  readonly hf: HfModelConfig;
  /** The origin's shape first ('' label) when known, then the directory's own. */
  readonly shapes: readonly (readonly [string, EncoderConfig])[];
}

export async function dirModel(path: string): Promise<DirModel> {
  const dir = resolveModelDir(path);
  const { config: hf } = await readHfConfig(join(dir, CONFIG_FILE));
  const passes = (await readModelMeta(dir)).info['compression'];
  const from = Array.isArray(passes) ? (passes[0] as { from?: unknown } | undefined)?.from : undefined;
  if (typeof from !== 'string') return { name: path, hf, shapes: [['', hf.encoder]] };
  const origin = await readHfConfig(join(from, CONFIG_FILE)).catch(() => null);
  if (!origin) return { name: path, hf, shapes: [['', hf.encoder]] };
  const steps = (passes as { command?: unknown }[]).map((p) => String(p.command)).join(', then ');
  return { name: path, referenceLabel: `${from} (its origin)`, hf, shapes: [['', origin.config.encoder], [`after ${steps}`, hf.encoder]] };
}

// A teacher's fingerprint: what decides its outputs for a text, hashed. Two teachers with one fingerprint give the
// same logits for every text, so cached outputs keyed by it stay valid across epochs, runs and copies of the model.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, WEIGHTS_INDEX_FILE } from '../../checkpoint/index.ts';
import type { Task } from '../../data/index.ts';
import { ONNX_DIR } from '../../infer/contract.ts';
import type { ModelMeta } from '../../model-dir/index.ts';

export interface FingerprintInput {
  /** The weights read: a model directory's, or an export's ONNX files. */
  readonly weights: 'model' | 'export';
  readonly dir: string;
  readonly tokenizerHash: string;
  readonly tasks: readonly Task[];
  readonly meta: ModelMeta;
  /** The length the teacher cuts texts to. */
  readonly maxLength: number;
}

/**
 * sha256 over the weight files (model: config.json and every safetensors file with its index; export: every file
 * under onnx/), the tokenizer, the tasks with their labels, and the xlmt.json fields the forward pass reads.
 * Provenance and thresholds are left out: they change no logit.
 */
export async function teacherFingerprint(input: FingerprintInput): Promise<string> {
  const files = input.weights === 'model' ? await modelFiles(input.dir) : (await readdir(join(input.dir, ONNX_DIR))).sort().map((name) => join(ONNX_DIR, name));
  const fileHashes: Record<string, string> = {};
  for (const file of files) fileHashes[file] = await fileHash(join(input.dir, file));
  const { pooling, headStyle, positions, padId } = input.meta;
  const described = {
    weights: input.weights,
    files: fileHashes,
    tokenizer: input.tokenizerHash,
    tasks: input.tasks.map((t) => ({ name: t.name, type: t.type, labels: t.labels })),
    forward: { pooling, headStyle, positions, padId, maxLength: input.maxLength },
  };
  return createHash('sha256').update(JSON.stringify(described)).digest('hex');
}

async function modelFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((name) => name === CONFIG_FILE || name === WEIGHTS_INDEX_FILE || name.endsWith('.safetensors')).sort();
}

function fileHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex')));
  });
}

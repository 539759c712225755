// Loads an export directory for serving: the ONNX classifier, warmed up, named by its directory and versioned
// by a digest of its weights (so clients and metrics see a reload that changed them).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ONNX_DIR, ONNX_FILE } from '../infer/contract.ts';
import { OnnxClassifier } from '../infer/onnx-classifier.ts';
import type { ModelLoader } from './model-slot.ts';

export interface OnnxLoaderOptions {
  readonly threads?: number;
  /** Texts per forward pass: the batcher's maximum batch size. */
  readonly batchSize: number;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function onnxModelLoader(options: OnnxLoaderOptions): ModelLoader {
  return async (dir) => {
    const classifier = await OnnxClassifier.load(dir, { batchSize: options.batchSize, ...(options.threads ? { threads: options.threads } : {}) });
    try {
      await classifier.warmUp();
      const version = (await fileDigest(join(dir, ONNX_DIR, ONNX_FILE))).slice(0, 12);
      return { classifier, info: { name: basename(resolve(dir)), version, dir: resolve(dir) } };
    } catch (e) {
      await classifier.release();
      throw e;
    }
  };
}

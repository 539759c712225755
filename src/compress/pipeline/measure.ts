// What `xlmt compress` reports of every model it makes: size on disk, speed at the serving shape on this CPU, and
// dev macro-F1 per task and language (`xlmt eval`'s evaluateModel, for model directories and exports alike). A model directory is timed as its fused fp32 export graph (what
// `xlmt export` would serve), an export directory as its own onnx/model.onnx; both on the same random token batch
// of `batch` × `seq`, the median of `iterations` runs after one warm-up, `threads` ONNX Runtime threads.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readHfConfig, WEIGHTS_FILE } from '../../checkpoint/index.ts';
import { fullBatch, median } from '../../bench/infer.ts';
import { serialize } from '../../builder/serialize.ts';
import { fusedGraph } from '../../export/export.ts';
import { ONNX_DIR, ONNX_FILE } from '../../infer/contract.ts';
import { ModelFile } from '../../runtime/model-file.ts';
import { isExport } from '../../train/assess.ts';
import { loadModelDir } from '../../train/model-dir.ts';
import { Random } from '../../util/random.ts';

export interface SpeedOptions {
  readonly batch: number;
  readonly seq: number;
  readonly iterations: number;
  readonly threads: number;
}

export const SPEED_DEFAULTS: SpeedOptions = { batch: 32, seq: 128, iterations: 3, threads: 2 };

/** Bytes of the weights a model serves from: model.safetensors, or onnx/model.onnx of an export. */
export function modelBytes(dir: string): number {
  return statSync(isExport(dir) ? join(dir, ONNX_DIR, ONNX_FILE) : join(dir, WEIGHTS_FILE)).size;
}

/** Texts per second at the serving shape. */
export async function servingSpeed(dir: string, o: SpeedOptions): Promise<number> {
  let bytes: Uint8Array | string;
  let vocab: number;
  if (isExport(dir)) {
    bytes = join(dir, ONNX_DIR, ONNX_FILE);
    vocab = (await readHfConfig(join(dir, 'config.json'))).config.encoder.vocabSize;
  } else {
    const model = await loadModelDir(dir);
    const fused = fusedGraph(model);
    bytes = serialize(fused.graph, { params: fused.params, producer: 'xlmt compress' });
    vocab = model.hf.encoder.vocabSize;
  }
  const file = await ModelFile.load(bytes, { threads: o.threads });
  try {
    const feeds = fullBatch(vocab, o.batch, o.seq, new Random(7));
    await file.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < o.iterations; i++) {
      const start = performance.now();
      await file.run(feeds);
      ms.push(performance.now() - start);
    }
    return o.batch / (median(ms) / 1000);
  } finally {
    await file.release();
  }
}

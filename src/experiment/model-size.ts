// The encoder a run trained, for the report's header: its shape from config.json and its parameter count from
// the graph it builds (heads left out: they differ between variants and are tiny).
import { join } from 'node:path';
import { GraphBuilder } from '../builder/builder.ts';
import { readHfConfig } from '../checkpoint/index.ts';
import { multiTaskClassifier } from '../models/multitask.ts';

export interface ModelSize {
  readonly modelType: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly encoderParameters: number;
}

/** From a saved model directory (config.json in Hugging Face layout). */
export async function modelSize(modelDir: string): Promise<ModelSize> {
  const { config } = await readHfConfig(join(modelDir, 'config.json'));
  const e = config.encoder;
  const g = new GraphBuilder('size');
  multiTaskClassifier(g, e, [{ name: 'probe', type: 'multiclass', labels: ['a', 'b'] }], { training: false, pooling: 'cls', headStyle: 'linear' });
  let encoderParameters = 0;
  for (const p of g.build().params) {
    if (p.name.startsWith('heads.')) continue;
    encoderParameters += p.shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : Number.NaN), 1);
  }
  return { modelType: config.modelType, layers: e.numHiddenLayers, hidden: e.hiddenSize, heads: e.numAttentionHeads, ffn: e.intermediateSize, vocab: e.vocabSize, encoderParameters };
}

/** "1 layer × hidden 32, 2 heads, FFN 64, vocabulary 120 (bert; 12.3 K encoder parameters)". */
export function describeModelSize(s: ModelSize): string {
  return `${s.layers} layer${s.layers === 1 ? '' : 's'} × hidden ${s.hidden}, ${s.heads} heads, FFN ${s.ffn}, vocabulary ${s.vocab.toLocaleString('en-US')} (${s.modelType}; ${count(s.encoderParameters)} encoder parameters)`;
}

function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

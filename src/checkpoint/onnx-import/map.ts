// A matched ONNX encoder as a Hugging Face checkpoint: parameters under transformers' names (Linear weights
// [out, in], the transpose of ONNX's [in, out] kernels) and the config they imply.
import type { Parameter } from '../../ir/params.ts';
import { encoderConfig, type EncoderConfig } from '../../models/config.ts';
import type { PositionConvention } from '../../tokenize/index.ts';
import type { Linear } from './linear.ts';
import type { MatchedEncoder } from './match.ts';
import type { Norm } from './norm.ts';
import type { ConstTensor } from './read.ts';

export interface Tables {
  readonly position: ConstTensor;
  /** null: the graph adds no token-type embedding (or folded row 0 into the positions); a zero row stands in. */
  readonly tokenType: ConstTensor | null;
  readonly positions: PositionConvention;
}

export interface MappedEncoder {
  readonly encoder: EncoderConfig;
  readonly params: Map<string, Parameter>;
}

const param = (name: string, shape: readonly number[], data: Float32Array): [string, Parameter] => [name, { name, shape, data }];

/** [in, out] → [out, in] */
function transposed(l: Linear): Float32Array {
  const out = new Float32Array(l.weight.length);
  for (let r = 0; r < l.inFeatures; r++) for (let c = 0; c < l.outFeatures; c++) out[c * l.inFeatures + r] = l.weight[r * l.outFeatures + c] as number;
  return out;
}

function linear(prefix: string, l: Linear): [string, Parameter][] {
  return [
    param(`${prefix}.weight`, [l.outFeatures, l.inFeatures], transposed(l)),
    param(`${prefix}.bias`, [l.outFeatures], l.bias ?? new Float32Array(l.outFeatures)),
  ];
}

function norm(prefix: string, n: Norm): [string, Parameter][] {
  return [param(`${prefix}.weight`, [n.gamma.length], n.gamma), param(`${prefix}.bias`, [n.beta.length], n.beta)];
}

const table = (name: string, t: ConstTensor): [string, Parameter] => param(name, t.shape, t.data as Float32Array);

export function mapEncoder(m: MatchedEncoder, tables: Tables, heads: number): MappedEncoder {
  const [vocab, hidden] = m.word.table.shape as [number, number];
  const first = m.layers[0];
  const tokenType = tables.tokenType ?? { shape: [1, hidden], elemType: 1, data: new Float32Array(hidden) };
  const encoder = encoderConfig({
    vocabSize: vocab,
    hiddenSize: hidden,
    numHiddenLayers: m.layers.length,
    numAttentionHeads: heads,
    intermediateSize: first?.intermediate.outFeatures ?? 4 * hidden,
    maxPositionEmbeddings: tables.position.shape[0] ?? 0,
    typeVocabSize: tokenType.shape[0] ?? 1,
    layerNormEps: m.embeddingNorm.eps,
  });
  const entries: [string, Parameter][] = [
    table('embeddings.word_embeddings.weight', m.word.table),
    table('embeddings.position_embeddings.weight', tables.position),
    table('embeddings.token_type_embeddings.weight', tokenType),
    ...norm('embeddings.LayerNorm', m.embeddingNorm),
  ];
  m.layers.forEach((l, i) => {
    const p = `encoder.layer.${i}`;
    entries.push(
      ...linear(`${p}.attention.self.query`, l.query),
      ...linear(`${p}.attention.self.key`, l.key),
      ...linear(`${p}.attention.self.value`, l.value),
      ...linear(`${p}.attention.output.dense`, l.attentionOutput),
      ...norm(`${p}.attention.output.LayerNorm`, l.attentionNorm),
      ...linear(`${p}.intermediate.dense`, l.intermediate),
      ...linear(`${p}.output.dense`, l.output),
      ...norm(`${p}.output.LayerNorm`, l.outputNorm),
    );
  });
  if (m.pooler) entries.push(...linear('pooler.dense', m.pooler));
  return { encoder, params: new Map(entries) };
}

/** Every LayerNorm's epsilon, for the warning when they differ (the config holds one). */
export function epsilons(m: MatchedEncoder): number[] {
  return [...new Set([m.embeddingNorm, ...m.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])].map((n) => n.eps))];
}

/** The quantized forms the weights were read from. */
export function quantizations(m: MatchedEncoder, tables: readonly string[]): string[] {
  const all = m.layers.flatMap((l) => [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output]).concat(m.pooler ? [m.pooler] : []);
  const found = new Set([...all.flatMap((l) => (l.quantization ? [l.quantization] : [])), ...tables]);
  return [...found].sort();
}

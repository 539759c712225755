// What `prune hidden` measures of a model on texts, at every place a linear map reads the residual stream: the
// embeddings' output, each layer's attention block output (what its FFN reads) and each layer's output, all of them
// LayerNorm outputs. Two passes over the same texts:
//   1. the root mean square of every coordinate at the layer outputs, which ranks the coordinates (scores);
//   2. once the kept coordinates K are known, the moments that fit each place's full vector x on what the cut model's
//      LayerNorm will give there, x′ = γ_K ⊙ (ẑ_K − mean(ẑ_K)) / std(ẑ_K) + β_K with ẑ = (x − β) / γ: the same
//      pre-norm values normalized over K alone (exact when the kept coordinates before the norm are as they were).
// compensate.ts fits x ≈ B·x′ + d from them.
import type { Parameter } from '../../ir/params.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { paddedBatch } from '../../infer/batching.ts';
import { Session } from '../../runtime/session.ts';
import { encodeIds } from '../../tokenize/index.ts';
import type { TrainedModel } from '../../train/model-dir.ts';
import { attentionOutput, hiddenOutput, teacherGraph } from '../distill/teacher-graph.ts';

/** A place of the residual stream: the graph output holding it and the LayerNorm that wrote it. */
export interface StreamPlace {
  readonly output: string;
  readonly layerNorm: string;
}

/** The embeddings' output, then per layer its attention block output and its output. */
export function streamPlaces(layers: number): { hidden: StreamPlace[]; attended: StreamPlace[] } {
  return {
    hidden: Array.from({ length: layers + 1 }, (_, l) => ({ output: hiddenOutput(l), layerNorm: l === 0 ? 'embeddings.LayerNorm' : `encoder.layer.${l - 1}.output.LayerNorm` })),
    attended: Array.from({ length: layers }, (_, l) => ({ output: attentionOutput(l), layerNorm: `encoder.layer.${l}.attention.output.LayerNorm` })),
  };
}

/** Runs the model over `texts` in batches; `visit` gets each output asked for and the rows of real tokens. */
async function forEachBatch(model: TrainedModel, texts: readonly string[], outputs: readonly string[], o: StatsOptions, visit: (results: Readonly<Record<string, Float32Array>>, rows: readonly number[]) => void): Promise<void> {
  const config = model.hf.encoder;
  const graph = teacherGraph(config, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions });
  const session = await Session.create(graph, { params: model.params, ...(o.threads ? { threads: o.threads } : {}) });
  try {
    for (let start = 0; start < texts.length; start += o.batchSize) {
      const { ids } = await encodeIds(model.tokenizer, texts.slice(start, start + o.batchSize), model.meta.maxLength);
      const feeds: Record<string, TensorData> = paddedBatch(ids, model.meta.padId);
      const seq = Math.max(1, ...ids.map((r) => r.length));
      const rows = ids.flatMap((row, b) => Array.from({ length: row.length }, (_, t) => b * seq + t));
      const results = await session.run(feeds, undefined, [...outputs]);
      visit(Object.fromEntries(outputs.map((name) => [name, results[name]?.data as Float32Array])), rows);
    }
  } finally {
    await session.release();
  }
}

export interface StatsOptions {
  readonly batchSize: number;
  readonly threads?: number;
}

/**
 * Per hidden coordinate: its root mean square at each layer output (the embeddings' included), each layer's values
 * divided by their mean so that every layer weighs alike, averaged over layers.
 */
export async function coordinateScores(model: TrainedModel, texts: readonly string[], o: StatsOptions): Promise<Float64Array> {
  const hidden = model.hf.encoder.hiddenSize;
  const places = streamPlaces(model.hf.encoder.numHiddenLayers).hidden;
  const squares = places.map(() => new Float64Array(hidden));
  let tokens = 0;
  await forEachBatch(model, texts, places.map((p) => p.output), o, (results, rows) => {
    places.forEach((p, l) => {
      const states = results[p.output] as Float32Array;
      const sum = squares[l] as Float64Array;
      for (const row of rows) for (let i = 0; i < hidden; i++) sum[i] = (sum[i] as number) + (states[row * hidden + i] as number) ** 2;
    });
    tokens += rows.length;
  });
  const scores = new Float64Array(hidden);
  for (const sum of squares) {
    const rms = Array.from(sum, (s) => Math.sqrt(s / Math.max(1, tokens)));
    const mean = rms.reduce((a, b) => a + b, 0) / hidden || 1;
    rms.forEach((r, i) => (scores[i] = (scores[i] as number) + r / mean / squares.length));
  }
  return scores;
}

/** Sums over tokens at one place: x the full vector, u = x′ what the cut model's LayerNorm gives on the kept coordinates. */
export interface CutMoments {
  readonly sumX: Float64Array;
  readonly sumU: Float64Array;
  /** Σ u uᵀ, [kept, kept], both triangles. */
  readonly uu: Float64Array;
  /** Σ x uᵀ, [hidden, kept]. */
  readonly xu: Float64Array;
  tokens: number;
}

/** x′ on the kept coordinates for one token's LayerNorm output x (γ, β the norm's parameters). */
export function cutNormOutput(x: Float32Array | Float64Array, offset: number, kept: readonly number[], gamma: Float32Array, beta: Float32Array, out: Float64Array): void {
  let mean = 0;
  kept.forEach((i, p) => {
    const g = gamma[i] as number;
    const z = g === 0 ? 0 : ((x[offset + i] as number) - (beta[i] as number)) / g;
    out[p] = z;
    mean += z;
  });
  mean /= kept.length;
  let variance = 0;
  for (let p = 0; p < kept.length; p++) variance += ((out[p] as number) - mean) ** 2;
  const std = Math.sqrt(variance / kept.length) || 1;
  kept.forEach((i, p) => (out[p] = ((gamma[i] as number) * ((out[p] as number) - mean)) / std + (beta[i] as number)));
}

/** The moments of every place for the kept coordinates, on at most `maxTokens` tokens per place. */
export async function cutMoments(model: TrainedModel, texts: readonly string[], kept: readonly number[], o: StatsOptions & { readonly maxTokens: number }): Promise<{ hidden: CutMoments[]; attended: CutMoments[] }> {
  const hidden = model.hf.encoder.hiddenSize;
  const k = kept.length;
  const places = streamPlaces(model.hf.encoder.numHiddenLayers);
  const empty = (): CutMoments => ({ sumX: new Float64Array(hidden), sumU: new Float64Array(k), uu: new Float64Array(k * k), xu: new Float64Array(hidden * k), tokens: 0 });
  const moments = { hidden: places.hidden.map(empty), attended: places.attended.map(empty) };
  const all = [...places.hidden.map((p, i) => [p, moments.hidden[i]] as const), ...places.attended.map((p, i) => [p, moments.attended[i]] as const)];
  const norm = (name: string, part: 'weight' | 'bias'): Float32Array => (model.params.get(`${name}.${part}`) as Parameter).data;
  const u = new Float64Array(k);
  await forEachBatch(model, texts, all.map(([p]) => p.output), o, (results, rows) => {
    for (const [place, m] of all) {
      const states = results[place.output] as Float32Array;
      const gamma = norm(place.layerNorm, 'weight');
      const beta = norm(place.layerNorm, 'bias');
      for (const row of rows.slice(0, Math.max(0, o.maxTokens - (m as CutMoments).tokens))) addToken(m as CutMoments, states, row * hidden, hidden, kept, gamma, beta, u);
    }
  });
  for (const m of [...moments.hidden, ...moments.attended]) for (let p = 0; p < k; p++) for (let q = 0; q < p; q++) m.uu[p * k + q] = m.uu[q * k + p] as number;
  return moments;
}

function addToken(m: CutMoments, x: Float32Array, offset: number, hidden: number, kept: readonly number[], gamma: Float32Array, beta: Float32Array, u: Float64Array): void {
  const k = kept.length;
  cutNormOutput(x, offset, kept, gamma, beta, u);
  for (let p = 0; p < k; p++) {
    const up = u[p] as number;
    m.sumU[p] = (m.sumU[p] as number) + up;
    for (let q = p; q < k; q++) m.uu[p * k + q] = (m.uu[p * k + q] as number) + up * (u[q] as number);
  }
  for (let i = 0; i < hidden; i++) {
    const xi = x[offset + i] as number;
    m.sumX[i] = (m.sumX[i] as number) + xi;
    const base = i * k;
    for (let p = 0; p < k; p++) m.xu[base + p] = (m.xu[base + p] as number) + xi * (u[p] as number);
  }
  m.tokens++;
}

// An independent, deliberately naive BERT/XLM-R encoder forward pass in plain loops over Float64, used to check
// the ONNX graph: no code is shared with src/models.
export interface NaiveConfig {
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  eps: number;
}

type Weights = ReadonlyMap<string, Float32Array>;

/** erf to ~1e-12 by its Taylor series (small |x|) or continued fraction (large |x|). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc by Lentz's continued fraction
  let f = ax;
  let c = ax;
  let d = 0;
  for (let i = 1; i < 200; i++) {
    const a = i / 2;
    d = ax + a * d;
    d = 1 / d;
    c = ax + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

function get(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`naive forward: no weight ${name}`);
  return t;
}

/** y[n, out] = x[n, in] · W[out, in]ᵀ + b */
function dense(x: number[][], w: Float32Array, b: Float32Array, outSize: number): number[][] {
  return x.map((row) => {
    const y: number[] = [];
    for (let o = 0; o < outSize; o++) {
      let s = b[o] as number;
      for (let i = 0; i < row.length; i++) s += (row[i] as number) * (w[o * row.length + i] as number);
      y.push(s);
    }
    return y;
  });
}

function layerNorm(x: number[][], gamma: Float32Array, beta: Float32Array, eps: number): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * (gamma[i] as number) + (beta[i] as number));
  });
}

/**
 * transformers' sequence-classification heads on the first token's state, weights under their checkpoint names
 * (base-model prefix removed): BertForSequenceClassification's pooler (dense, tanh) and `classifier`, or
 * RobertaClassificationHead's `classifier.dense`, tanh, `classifier.out_proj`. Dropout is off at inference.
 */
export function naiveClassifierLogits(w: Weights, style: 'bert' | 'roberta', first: number[], labels: number): number[] {
  const H = first.length;
  const tanh = (rows: number[][]): number[][] => rows.map((r) => r.map(Math.tanh));
  if (style === 'bert') {
    const pooled = tanh(dense([first], get(w, 'pooler.dense.weight'), get(w, 'pooler.dense.bias'), H));
    return dense(pooled, get(w, 'classifier.weight'), get(w, 'classifier.bias'), labels)[0] as number[];
  }
  const inner = tanh(dense([first], get(w, 'classifier.dense.weight'), get(w, 'classifier.dense.bias'), H));
  return dense(inner, get(w, 'classifier.out_proj.weight'), get(w, 'classifier.out_proj.bias'), labels)[0] as number[];
}

/** Last hidden states [seq][hidden] of one sequence. */
export function naiveEncode(w: Weights, c: NaiveConfig, ids: number[], positions: number[], mask: number[]): number[][] {
  const H = c.hidden;
  const words = get(w, 'embeddings.word_embeddings.weight');
  const pos = get(w, 'embeddings.position_embeddings.weight');
  const types = get(w, 'embeddings.token_type_embeddings.weight');
  let x = ids.map((id, t) => Array.from({ length: H }, (_, h) => (words[id * H + h] as number) + (pos[(positions[t] as number) * H + h] as number) + (types[h] as number)));
  x = layerNorm(x, get(w, 'embeddings.LayerNorm.weight'), get(w, 'embeddings.LayerNorm.bias'), c.eps);
  const d = H / c.heads;
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = dense(x, get(w, `${p}attention.self.query.weight`), get(w, `${p}attention.self.query.bias`), H);
    const k = dense(x, get(w, `${p}attention.self.key.weight`), get(w, `${p}attention.self.key.bias`), H);
    const v = dense(x, get(w, `${p}attention.self.value.weight`), get(w, `${p}attention.self.value.bias`), H);
    const context = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < c.heads; h++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => {
          if (!mask[j]) return -Infinity;
          let s = 0;
          for (let e = 0; e < d; e++) s += (q[i]?.[h * d + e] as number) * (k[j]?.[h * d + e] as number);
          return s / Math.sqrt(d);
        });
        const m = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - m));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++) {
          for (let e = 0; e < d; e++) {
            const row = context[i] as number[];
            row[h * d + e] = (row[h * d + e] as number) + ((ex[j] as number) / z) * (v[j]?.[h * d + e] as number);
          }
        }
      }
    }
    const attnOut = dense(context, get(w, `${p}attention.output.dense.weight`), get(w, `${p}attention.output.dense.bias`), H);
    const a = layerNorm(attnOut.map((r, i) => r.map((val, j) => val + (x[i]?.[j] as number))), get(w, `${p}attention.output.LayerNorm.weight`), get(w, `${p}attention.output.LayerNorm.bias`), c.eps);
    const inner = dense(a, get(w, `${p}intermediate.dense.weight`), get(w, `${p}intermediate.dense.bias`), c.ffn).map((r) => r.map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2))));
    const out = dense(inner, get(w, `${p}output.dense.weight`), get(w, `${p}output.dense.bias`), H);
    x = layerNorm(out.map((r, i) => r.map((val, j) => val + (a[i]?.[j] as number))), get(w, `${p}output.LayerNorm.weight`), get(w, `${p}output.LayerNorm.bias`), c.eps);
  }
  return x;
}

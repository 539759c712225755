// The structure of an exported BERT/XLM-R encoder, found by following the graph from input_ids: the embedding
// lookups and their LayerNorm, then layer by layer the sub-block between two LayerNorms (attention: Q, K, V and
// the output projection; FFN: two dense layers around a GELU), then the pooler. Initializer names are never used:
// exporters rename them (onnx::MatMul_1234).
import { XlmtError } from '../../errors/index.ts';
import { asLinear, asPackedAttention, type Linear } from './linear.ts';
import { findNorms, type Norm } from './norm.ts';
import { type ConstTensor, dequantizeAlong, type OnnxGraph, type OnnxNode } from './read.ts';

/** An embedding table and the value that indexes it. */
export interface Lookup {
  readonly table: ConstTensor;
  readonly index: string;
  readonly node: OnnxNode;
  /** How the table was stored quantized (DequantizeLinear before or after the Gather, or int8 rows); null: float. */
  readonly quantization: string | null;
}

export interface MatchedLayer {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly attentionOutput: Linear;
  readonly attentionNorm: Norm;
  readonly intermediate: Linear;
  readonly output: Linear;
  readonly outputNorm: Norm;
  /** From Attention's num_heads or the Reshape to [batch, seq, heads, headDim]; null when neither says. */
  readonly heads: number | null;
}

export interface MatchedEncoder {
  readonly inputIds: string;
  readonly word: Lookup;
  /** The other lookups added to the words (positions, token types), told apart later by their index values. */
  readonly lookups: readonly Lookup[];
  /** EmbedLayerNormalization without position ids: BERT positions 0…seq−1 inside the kernel. */
  readonly implicitPositions: ConstTensor | null;
  readonly embeddingNorm: Norm;
  readonly layers: readonly MatchedLayer[];
  readonly pooler: Linear | null;
  /** The pooler's tanh output. */
  readonly pooled: string | null;
  /** Dense layers after the encoder that are not the pooler (a classifier's head): not imported. */
  readonly ignored: readonly string[];
}

const SHAPE_OPS = new Set(['Shape', 'Size']);
const PASS_THROUGH = new Set(['Reshape', 'Identity', 'Cast', 'Squeeze', 'Unsqueeze', 'Flatten', 'DynamicQuantizeLinear']);

export function unrecognized(g: OnnxGraph, message: string, extra: { node?: string; expected?: string; received?: string } = {}): XlmtError {
  return new XlmtError({
    code: 'ONNX_NOT_ENCODER',
    where: { file: g.source, ...(extra.node ? { node: extra.node } : {}) },
    message: `not a BERT or XLM-R encoder xlmt can map: ${message}`,
    ...(extra.expected ? { expected: extra.expected } : {}),
    ...(extra.received ? { received: extra.received } : {}),
    hint: 'xlmt reads encoders exported by torch.onnx, Optimum/transformers.js and ONNX Runtime\'s optimizer and quantizers (docs/checkpoints.md, "Importing an ONNX encoder")',
  });
}

/** Follows a value back through reshapes and casts: does it come from `source`? */
function comesFrom(g: OnnxGraph, value: string, source: string): boolean {
  for (let v = value, steps = 0; steps < 16; steps++) {
    if (v === source) return true;
    const p = g.producer(v);
    if (!p || !PASS_THROUGH.has(p.opType)) return false;
    v = p.inputs[0] ?? '';
  }
  return false;
}

interface Block {
  readonly linears: Linear[];
  readonly attention: ReturnType<typeof asPackedAttention>[];
  readonly norm: Norm | undefined;
  readonly ops: string[];
}

/** Everything computed from `start` up to (and including) the first LayerNorm: one attention or FFN sub-block. */
function block(g: OnnxGraph, start: string, norms: ReadonlyMap<OnnxNode, Norm>): Block {
  const out: Block = { linears: [], attention: [], norm: undefined, ops: [] };
  const seen = new Set<OnnxNode>();
  const queue = [start];
  let norm: Norm | undefined;
  while (queue.length > 0) {
    const value = queue.shift() as string;
    for (const node of g.consumers(value)) {
      if (seen.has(node) || SHAPE_OPS.has(node.opType)) continue;
      seen.add(node);
      const n = norms.get(node);
      if (n) {
        if (norm && norm !== n) throw unrecognized(g, 'two LayerNorms follow one hidden state', { node: node.name });
        norm = n;
        continue;
      }
      out.ops.push(node.opType);
      const linear = asLinear(g, node);
      const packed = linear ? undefined : asPackedAttention(g, node);
      if (linear) out.linears.push(linear);
      if (packed) out.attention.push(packed);
      queue.push(...node.outputs.filter((o) => o));
    }
  }
  return { ...out, norm };
}

/** The first activation × activation MatMul reached from `value`, and which of its inputs the path arrived at. */
function firstProduct(g: OnnxGraph, value: string): { node: OnnxNode; side: number } | undefined {
  const queue = [value];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const v = queue.shift() as string;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const node of g.consumers(v)) {
      if (node.opType === 'MatMul' && !g.constant(node.inputs[0] ?? '') && !g.constant(node.inputs[1] ?? '')) return { node, side: node.inputs.indexOf(v) };
      if (!SHAPE_OPS.has(node.opType)) queue.push(...node.outputs);
    }
  }
  return undefined;
}

/** Heads from the Reshape of the query projection to [batch, seq, heads, headDim]. */
function headsFromReshape(g: OnnxGraph, query: Linear): number | null {
  let reshape: OnnxNode | undefined;
  for (let v = query.output, steps = 0; !reshape && steps < 4; steps++) {
    const users = g.consumers(v);
    reshape = users.find((n) => n.opType === 'Reshape');
    v = users[0]?.outputs[0] ?? '';
  }
  const shape = reshape?.inputs[1] ?? '';
  const parts = g.constant(shape) ? [shape] : g.producer(shape)?.opType === 'Concat' ? g.producer(shape)?.inputs ?? [] : [];
  const known = parts.flatMap((p) => [...(g.constant(p)?.data ?? [NaN])]);
  const [heads, headDim] = known.slice(-2);
  if (heads === undefined || headDim === undefined || Number.isNaN(heads)) return null;
  if (headDim > 0 && heads > 0 && heads * headDim === query.outFeatures) return heads;
  if (headDim === -1 && heads > 0) return heads;
  if (heads === -1 && headDim > 0 && query.outFeatures % headDim === 0) return query.outFeatures / headDim; // view(*shape, -1, headDim)
  return null;
}

function attentionBlock(g: OnnxGraph, i: number, h: string, b: Block): Pick<MatchedLayer, 'query' | 'key' | 'value' | 'attentionOutput' | 'heads'> {
  const found = `found ${b.linears.length} dense layers${b.attention.length ? ` and ${b.attention.length} Attention nodes` : ''} (ops ${[...new Set(b.ops)].join(', ')})`;
  const packed = b.attention[0];
  if (packed && b.attention.length === 1 && b.linears.length === 1) {
    const [query, key, value] = packed.qkv;
    return { query, key, value, attentionOutput: b.linears[0] as Linear, heads: packed.heads };
  }
  const qkv = b.linears.filter((l) => comesFrom(g, l.input, h));
  const rest = b.linears.filter((l) => !qkv.includes(l));
  if (qkv.length !== 3 || rest.length !== 1 || b.attention.length > 0) {
    throw unrecognized(g, `layer ${i}: the attention block does not have the BERT shape`, { expected: 'Q, K and V projections of the hidden state and one output projection, or a packed com.microsoft Attention and one output projection', received: found });
  }
  const reached = qkv.map((l) => firstProduct(g, l.output));
  const scores = reached.filter((r) => r && reached.filter((s) => s?.node === r.node).length === 2);
  const q = qkv.find((_, j) => reached[j] && scores.includes(reached[j]) && reached[j]?.side === 0);
  const k = qkv.find((_, j) => reached[j] && scores.includes(reached[j]) && reached[j]?.side === 1);
  const v = qkv.find((_, j) => reached[j] && !scores.includes(reached[j]));
  if (!q || !k || !v) throw unrecognized(g, `layer ${i}: cannot tell the query, key and value projections apart`, { expected: 'scores = MatMul(query, keyᵀ), context = MatMul(softmax(scores), value)', received: found });
  return { query: q, key: k, value: v, attentionOutput: rest[0] as Linear, heads: headsFromReshape(g, q) };
}

function ffnBlock(g: OnnxGraph, i: number, h: string, b: Block): { intermediate: Linear; output: Linear } {
  const intermediate = b.linears.find((l) => comesFrom(g, l.input, h));
  const output = b.linears.find((l) => l !== intermediate);
  const ops = [...new Set(b.ops)];
  if (b.linears.length !== 2 || !intermediate || !output || b.attention.length > 0) {
    throw unrecognized(g, `layer ${i}: the feed-forward block does not have the BERT shape`, { expected: 'dense, GELU, dense', received: `${b.linears.length} dense layers, ops ${ops.join(', ')}` });
  }
  const tanhGelu = b.ops.includes('FastGelu') || b.ops.includes('Tanh') || b.ops.includes('QuickGelu')
    || g.nodes.some((n) => n.opType === 'Gelu' && g.string(n, 'approximate') === 'tanh' && b.ops.includes('Gelu'));
  const exactGelu = b.ops.some((op) => op === 'Gelu' || op === 'BiasGelu' || op === 'Erf');
  if (tanhGelu || !exactGelu) {
    throw new XlmtError({
      code: 'UNSUPPORTED',
      where: { file: g.source },
      message: `layer ${i}: the feed-forward activation is not exact GELU`,
      expected: 'Gelu, BiasGelu or the erf form x·½(1 + erf(x/√2)) (hidden_act "gelu")',
      received: `ops ${ops.join(', ')}`,
      hint: tanhGelu ? 'the tanh approximation (gelu_new, FastGelu) is not implemented by xlmt\'s encoder' : 'xlmt\'s encoder computes exact GELU only',
    });
  }
  const biasGelu = g.consumers(intermediate.output).find((n) => n.opType === 'BiasGelu');
  const bias = intermediate.bias ?? (biasGelu ? g.constant(biasGelu.inputs[1] ?? '')?.data : undefined);
  return { intermediate: { ...intermediate, bias: bias ? Float32Array.from(bias) : null }, output };
}

/** Where the ids enter: the graph input named input_ids, else the one integer input feeding a table lookup. */
function findInputIds(g: OnnxGraph): string {
  const named = g.inputs.find((x) => x.name === 'input_ids');
  if (named) return named.name;
  const ints = g.inputs.filter((x) => [6, 7].includes(x.elemType) && !/mask|type|position/.test(x.name));
  if (ints.length === 1 && ints[0]) return ints[0].name;
  throw unrecognized(g, 'no input_ids', { expected: 'a graph input named input_ids', received: `inputs ${g.inputs.map((x) => x.name).join(', ')}` });
}

/**
 * A lookup in a constant 2-D table. quantize_dynamic gathers int8 rows and dequantizes after the Gather (one scale
 * per table); xlmt's int8 export multiplies the gathered rows by their own scales, gathered by the same ids
 * (export/quantize-embeddings.ts). Either table is dequantized here whole.
 */
function lookupOf(g: OnnxGraph, node: OnnxNode, indexAt: number, tableAt: number): Lookup | undefined {
  const stored = g.constant(node.inputs[tableAt] ?? '');
  // A [rows, 1] table is the per-row scales of an int8 table, not an embedding.
  if (!stored || stored.shape.length !== 2 || stored.shape[1] === 1) return undefined;
  const index = node.inputs[indexAt] ?? '';
  if (stored.data instanceof Float32Array) return { table: stored, index, node, quantization: g.producer(node.inputs[tableAt] ?? '')?.opType === 'DequantizeLinear' ? 'int8 (DequantizeLinear)' : null };
  if (node.opType !== 'Gather') return undefined;
  const rowScales = rowScalesOf(g, node, stored.shape[0] as number);
  if (rowScales) return { table: { shape: stored.shape, elemType: 1, data: dequantizeAlong(stored, rowScales, undefined, 0) }, index, node, quantization: 'int8 rows (per-row scales)' };
  const after = g.consumers(node.outputs[0] ?? '').find((n) => n.opType === 'DequantizeLinear' && n.inputs[0] === node.outputs[0]);
  const scale = g.constant(after?.inputs[1] ?? '');
  if (!after || scale?.data.length !== 1) return undefined;
  const table = { shape: stored.shape, elemType: 1, data: dequantizeAlong(stored, scale.data, g.constant(after.inputs[2] ?? '')?.data, 0) };
  return { table, index, node, quantization: 'int8 (DequantizeLinear)' };
}

/** Gather(int8 table, ids) → Cast → Mul by Gather(scales [rows, 1] or [rows], ids): the scales, one per row. */
function rowScalesOf(g: OnnxGraph, gather: OnnxNode, rows: number): ArrayLike<number> | undefined {
  const codes = gather.outputs[0] ?? '';
  const cast = g.consumers(codes).find((n) => n.opType === 'Cast');
  const floats = cast?.outputs[0] ?? '';
  const mul = cast ? g.consumers(floats).find((n) => n.opType === 'Mul') : undefined;
  const scaleGather = g.producer(mul?.inputs.find((v) => v !== floats) ?? '');
  if (scaleGather?.opType !== 'Gather' || scaleGather.inputs[1] !== gather.inputs[1]) return undefined;
  const scales = g.constant(scaleGather.inputs[0] ?? '');
  return scales && scales.data.length === rows ? scales.data : undefined;
}

type Embeddings = Pick<MatchedEncoder, 'word' | 'lookups' | 'implicitPositions' | 'embeddingNorm'> & { readonly output: string };

function embeddings(g: OnnxGraph, inputIds: string, norms: ReadonlyMap<OnnxNode, Norm>): Embeddings {
  const users = (v: string): OnnxNode[] => g.consumers(v).flatMap((n) => (n.opType === 'Cast' || n.opType === 'Reshape' || n.opType === 'Flatten' ? [n, ...users(n.outputs[0] ?? '')] : [n]));
  const fused = users(inputIds).find((n) => n.opType === 'EmbedLayerNormalization' && comesFrom(g, n.inputs[0] ?? '', inputIds));
  if (fused) {
    const word = lookupOf(g, fused, 0, 2);
    const position = lookupOf(g, fused, 8, 3);
    const segment = fused.inputs[1] ? lookupOf(g, fused, 1, 4) : undefined;
    const gamma = g.constant(fused.inputs[5] ?? '')?.data;
    const beta = g.constant(fused.inputs[6] ?? '')?.data;
    if (!word || !position || !gamma || !beta) throw unrecognized(g, 'an EmbedLayerNormalization whose tables are not constants', { node: fused.name });
    const norm: Norm = { nodes: [fused], output: fused.outputs[0] ?? '', gamma: Float32Array.from(gamma), beta: Float32Array.from(beta), eps: g.float(fused, 'epsilon', 1e-12), bias: null };
    const lookups = [...(fused.inputs[8] ? [position] : []), ...(segment ? [segment] : [])];
    return { word, lookups, implicitPositions: fused.inputs[8] ? null : position.table, embeddingNorm: norm, output: norm.output };
  }
  const gather = users(inputIds).find((n) => n.opType === 'Gather' && lookupOf(g, n, 1, 0));
  const word = gather && lookupOf(g, gather, 1, 0);
  if (!gather || !word) {
    throw unrecognized(g, 'no Gather on input_ids', { expected: 'input_ids → Gather(word embeddings) or EmbedLayerNormalization', received: `input_ids feeds ${users(inputIds).map((n) => n.opType).join(', ') || 'nothing'}` });
  }
  const b = block(g, word.node.outputs[0] ?? '', norms);
  if (!b.norm) throw unrecognized(g, 'no LayerNorm after the word embeddings', { node: gather.name });
  // The other tables: lookups feeding the Adds between the word lookup and the LayerNorm.
  const lookups: Lookup[] = [];
  const visit = (value: string, depth: number): void => {
    const p = g.producer(value);
    if (!p || depth > 8 || p === gather) return;
    const l = p.opType === 'Gather' ? lookupOf(g, p, 1, 0) : undefined;
    if (l) lookups.push(l);
    else if (p.opType === 'Add' || p.opType === 'DequantizeLinear' || PASS_THROUGH.has(p.opType)) for (const input of p.opType === 'Add' ? p.inputs : p.inputs.slice(0, 1)) visit(input, depth + 1);
  };
  const first = b.norm.nodes[0] as OnnxNode;
  for (const input of first.inputs) visit(input, 0);
  return { word, lookups, implicitPositions: null, embeddingNorm: b.norm, output: b.norm.output };
}

/** Maps the graph's structure; throws UNSUPPORTED naming what was found where it differs from a BERT encoder. */
export function matchEncoder(g: OnnxGraph): MatchedEncoder {
  const norms = findNorms(g);
  const inputIds = findInputIds(g);
  const emb = embeddings(g, inputIds, norms);
  const layers: MatchedLayer[] = [];
  let h = emb.output;
  let tail: Block;
  for (;;) {
    const attention = block(g, h, norms);
    if (!attention.norm) {
      tail = attention;
      break;
    }
    const i = layers.length;
    const parts = attentionBlock(g, i, h, attention);
    const ffn = block(g, attention.norm.output, norms);
    if (!ffn.norm) throw unrecognized(g, `layer ${i}: no LayerNorm after the feed-forward block`, { received: `ops ${[...new Set(ffn.ops)].join(', ')}` });
    const { intermediate, output } = ffnBlock(g, i, attention.norm.output, ffn);
    const withNormBias = (l: Linear, n: Norm): Linear => (l.bias || !n.bias ? l : { ...l, bias: n.bias });
    layers.push({
      ...parts,
      attentionOutput: withNormBias(parts.attentionOutput, attention.norm),
      attentionNorm: attention.norm,
      intermediate,
      output: withNormBias(output, ffn.norm),
      outputNorm: ffn.norm,
    });
    h = ffn.norm.output;
  }
  if (layers.length === 0) throw unrecognized(g, 'no encoder layer after the embeddings', { received: `ops ${[...new Set(tail.ops)].join(', ')}` });
  // BERT's pooler: dense + tanh. Anything else after the encoder (a classifier's head) is left out of the import.
  const pooler = tail.linears.find((l) => g.consumers(l.output).some((n) => n.opType === 'Tanh'));
  const tanh = pooler ? g.consumers(pooler.output).find((n) => n.opType === 'Tanh') : undefined;
  return {
    inputIds, word: emb.word, lookups: emb.lookups, implicitPositions: emb.implicitPositions, embeddingNorm: emb.embeddingNorm, layers,
    pooler: pooler ?? null, pooled: tanh?.outputs[0] ?? null, ignored: tail.linears.filter((l) => l !== pooler).map((l) => l.node.name),
  };
}

/** The hidden-state value after the embeddings and after each layer: what the check compares. */
export function checkpoints(m: MatchedEncoder): { name: string; value: string }[] {
  return [{ name: 'embeddings', value: m.embeddingNorm.output }, ...m.layers.map((l, i) => ({ name: `layer ${i}`, value: l.outputNorm.output }))];
}

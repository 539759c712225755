// The quantization-aware training pass: fake int8 quantization (fake-quant.ts) put into a training graph's forward
// half, before autodiff. Pattern → check → rewrite:
//   MatMul/Gemm(x, W param, …)   ⇒ MatMul/Gemm(fq(x, one scale), fq(W, a scale per output channel), …)
//   Gather(word table, ids)       ⇒ fq(Gather(word table, ids), a scale per row)      (option wordEmbeddings)
// Dense layers are found as the int8 export finds them (builder/dense-layer.ts). Weights: max|W|/127 per output
// channel (max|W|/63 with 7-bit weights), recomputed every step, as export/int8.ts quantizes them after training.
// Activations: one quantizer per distinct input tensor (query, key and value read one tensor and share one scale,
// as the packed QKV kernel does), its range kept as
//   'ema': Q8BERT's moving average of max|x| (Zafrir et al. 2019): a graph input fed every step (ema-ranges.ts keeps
//          it), 0 until the first observation, when the step quantizes with its own max|x|; max|x| is an output;
//   'lsq': a learned step size per quantizer, a parameter (Esser et al. 2020), initialized by lsq.ts.
// Word rows are quantized after the lookup, so the table's gradient stays rows. LayerNorm, softmax, GELU, the other
// embeddings and the activation × activation products of attention stay fp32, as in Q8BERT.
import { XlmtError } from '../../errors/index.ts';
import type { GraphBuilder } from '../../builder/builder.ts';
import { type DenseWeight, denseWeight } from '../../builder/dense-layer.ts';
import { type Rewriter, rewriteInto } from '../../builder/rewrite.ts';
import { isFloat } from '../../ir/dtype.ts';
import { attrInt, type Graph, type Node, type Value } from '../../ir/graph.ts';
import { maxWeightCode, type WeightBits } from '../../export/int8.ts';
import type { Skipped } from '../../export/quantize.ts';
import { fakeQuantize, lsqStep, maxAbsScale, rowScale, scaleOfRange } from './fake-quant.ts';
import { inputMaxAbsName, inputRangeName, inputScaleName, layerOf } from './names.ts';

export type RangeMode = 'ema' | 'lsq';

export interface QatOptions {
  /** How activation ranges are kept. No default yet: the choice is to be made by measurement (docs/quantization.md). */
  readonly activations: RangeMode;
  /** Also fake-quantize the word-embedding rows a batch looks up, one scale per row (as the int8 export stores them). */
  readonly wordEmbeddings?: boolean;
  /** The dense layers to quantize, by weight name; default every one. */
  readonly layers?: (weight: string) => boolean;
  /** Weight codes −127…127 (8, the default) or −63…63 (7): the range the serving CPU's int8 kernels need (export/cpu-features.ts). */
  readonly weightBits?: WeightBits;
}

/** The quantizer of one activation tensor. */
export type ActivationQuantizer =
  | {
    readonly kind: 'ema';
    /** The first dense layer reading the tensor, which names the quantizer (names.ts). */
    readonly layer: string;
    /** Graph input, float []: the range to quantize with; 0 makes the step use its own max|x|. */
    readonly range: Value;
    /** max|x| of this step, float [], for the graph's outputs. */
    readonly observed: Value;
  }
  | {
    readonly kind: 'lsq';
    readonly layer: string;
    /** Parameter, float []: the learned step size s (scale = s, range = 127·s). */
    readonly step: Value;
  };

export interface QuantizedLayer {
  readonly node: string;
  readonly weight: string;
  /** The activation quantizer of its input, by layer name. */
  readonly input: string;
}

export interface QatGraph {
  /** The rewritten forward graph, ready for trainingGraph(g, { loss }). */
  readonly g: GraphBuilder;
  /** The loss's copy in `g`. */
  readonly loss: Value;
  /** Any value of the source graph's copy in `g` (logits, hidden states for other outputs). */
  copyOf(v: Value): Value;
  readonly layers: readonly QuantizedLayer[];
  readonly activations: readonly ActivationQuantizer[];
  /** The word tables whose looked-up rows are fake-quantized. */
  readonly embeddings: readonly string[];
  /** Dense layers left fp32, and why. */
  readonly skipped: readonly Skipped[];
}

/**
 * Fake quantization on every dense layer's weight (per output channel) and input (per tensor) of a forward graph
 * built with a GraphBuilder, whose scalar loss is `loss`. The source graph is left as it is.
 */
export function quantizationAwareGraph(forward: Graph, loss: Value, options: QatOptions): QatGraph {
  if (!forward.nodes.some((n) => n.outputs.includes(loss))) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizationAwareGraph', node: loss.name }, message: `the loss is no node output of graph ${forward.name}` });
  }
  const layers: QuantizedLayer[] = [];
  const skipped: Skipped[] = [];
  const embeddings: string[] = [];
  const activations: ActivationQuantizer[] = [];
  const weights = new Map<string, Value>(); // a tied weight is quantized once
  const inputs = new Map<Value, { quantizer: ActivationQuantizer; value: Value }>();
  const skip = (node: Node, reason: string): false => {
    skipped.push({ node: node.name, opType: node.opType, reason });
    return false;
  };

  const quantizedWeight = (r: Rewriter, dense: DenseWeight): Value => {
    const known = weights.get(dense.weight.name);
    if (known) return known;
    const w = r.value(dense.weight);
    const scale = { axis: dense.outputAxis, maxCode: maxWeightCode(options.weightBits ?? 8) };
    const q = r.g.scope('weight_quant', () => fakeQuantize(r.g, w, maxAbsScale(r.g, w, scale), scale));
    weights.set(dense.weight.name, q);
    return q;
  };

  const quantizedInput = (r: Rewriter, x: Value, layer: string): { quantizer: ActivationQuantizer; value: Value } => {
    const known = inputs.get(x);
    if (known) return known;
    const made = r.g.scope('input_quant', () => activationQuantizer(r.g, r.value(x), layer, options.activations));
    inputs.set(x, made);
    activations.push(made.quantizer);
    return made;
  };

  const r = rewriteInto(forward, (node, r) => {
    const dense = denseWeight(node);
    if (typeof dense === 'string') return skip(node, dense);
    if (dense) {
      const x = node.inputs[0];
      if (!x || !isFloat(x.dtype)) return skip(node, `its input ${x?.name ?? '(none)'} is not floating point`);
      if (options.layers && !options.layers(dense.weight.name)) return skip(node, 'left out by the layers option');
      r.inScopeOf(node, () => {
        const input = quantizedInput(r, x, layerOf(dense.weight.name));
        const weight = quantizedWeight(r, dense);
        r.copy(node, node.inputs.map((v, i) => (i === 0 ? input.value : i === 1 ? weight : v ? r.value(v) : null)));
        layers.push({ node: node.name, weight: dense.weight.name, input: input.quantizer.layer });
      });
      return true;
    }
    const table = options.wordEmbeddings ? wordTable(node) : undefined;
    if (!table) return false;
    r.inScopeOf(node, () => r.g.scope('word_quant', () => {
      const rows = r.g.op.Gather(r.value(table), r.value(node.inputs[1] as Value), 0);
      r.replace(node.outputs[0] as Value, fakeQuantize(r.g, rows, rowScale(r.g, rows)));
    }));
    embeddings.push(table.name);
    return true;
  });

  return { g: r.g, loss: r.value(loss), copyOf: (v) => r.value(v), layers, activations, embeddings, skipped };
}

/** The max|x| outputs of an 'ema' graph by output name, for trainingGraph's `outputs` (ema-ranges.ts reads them). */
export function observedMaxAbs(qat: QatGraph): Record<string, Value> {
  const outputs: Record<string, Value> = {};
  for (const a of qat.activations) if (a.kind === 'ema') outputs[inputMaxAbsName(a.layer)] = a.observed;
  return outputs;
}

function activationQuantizer(g: GraphBuilder, x: Value, layer: string, kind: RangeMode): { quantizer: ActivationQuantizer; value: Value } {
  const { op } = g;
  if (kind === 'lsq') {
    const step = g.paramNamed(inputScaleName(layer), [], x.dtype);
    return { quantizer: { kind, layer, step }, value: fakeQuantize(g, x, lsqStep(g, step, x)) };
  }
  const range = g.input(inputRangeName(layer), x.dtype, []);
  const observed = g.stopGradient(op.ReduceMax(op.Abs(x), undefined, { keepdims: false }));
  const scale = g.stopGradient(scaleOfRange(g, op.Where(op.Greater(range, 0), range, observed)));
  return { quantizer: { kind, layer, range, observed }, value: fakeQuantize(g, x, scale) };
}

/** The word-embedding table a Gather looks rows up in (`…word_embeddings.weight`, 2-D, axis 0), if it is one. */
function wordTable(node: Node): Value | undefined {
  if (node.opType !== 'Gather' || node.domain !== '' || attrInt(node, 'axis', 0) !== 0) return undefined;
  const table = node.inputs[0];
  if (!table || table.kind !== 'param' || table.shape.length !== 2 || !table.name.endsWith('word_embeddings.weight')) return undefined;
  return table;
}

// Static int8 quantization of an inference graph: weights become int8 once (as in quantize.ts), and so do the
// quantization parameters of each dense layer's input, fixed from given ranges instead of measured by ONNX Runtime
// on every run. The ranges come from calibration (calibration.ts) or from quantization-aware training
// (qat-export.ts), each with its grid. Pattern → check → rewrite, the same matches as the dynamic pass:
//   MatMul(A, W param) [→ Add(·, b param)] ⇒ MatMulIntegerToFloat(QuantizeLinear(A, s, z), int8 W, s, w scale, z, –, b)
//   Attention(x, W param, b param, mask)    ⇒ QAttention(QuantizeLinear(x, s, z), int8 W, b, s, w scale, mask, z)
// ('qoperator', the default), or with form 'qdq' the MatMuls as MatMul(DequantizeLinear(QuantizeLinear(A)),
// DequantizeLinear(int8 W)) + b, for ONNX Runtime's QDQ fusions to turn into integer kernels (Attention has no QDQ
// fusion, so it is QAttention in both forms). docs/inference-graph.md has the measurement that chose the default.
//
// Activations are uint8, the same code type DynamicQuantizeMatMul uses at run time, so the integer kernels are the
// same ones, on one of two grids (ActivationGrid):
// - 'uint8', for calibrated ranges: asymmetric over the range, scale = (max − min) / 255, zero point round(−min /
//   scale); values outside the range saturate at 0 or 255 (that is the clipping the calibration method chose);
// - 'int8', for the ranges of quantization-aware training: the training's own grid, so that the export computes what
//   the training simulated (see int8GridQuantization).
import { INT8_MAX } from '../compress/quantize/fake-quant.ts';
import { XlmtError } from '../errors/index.ts';
import { rewriteGraph, type Rewriter } from '../builder/rewrite.ts';
import type { Graph, Node, Value } from '../ir/graph.ts';
import type { Parameter, ParamStore } from '../ir/params.ts';
import type { ActivationRange } from './calibrate.ts';
import type { WeightBits } from './int8.ts';
import { int8Constants, keptParams, matchPackedAttention, matchWeightMatMul, type QuantizedGraph, type Skipped } from './quantize.ts';

export type StaticForm = 'qoperator' | 'qdq';
export const DEFAULT_STATIC_FORM: StaticForm = 'qoperator';

/** How a layer's range becomes its uint8 scale and zero point: uint8Quantization or int8GridQuantization. */
export type ActivationGrid = 'uint8' | 'int8';

export interface StaticQuantizeOptions {
  readonly perChannel: boolean;
  readonly weightBits?: WeightBits;
  /** The input range of every layer staticInt8Layers lists, by layer name. */
  readonly ranges: ReadonlyMap<string, ActivationRange>;
  /** Default 'uint8'. */
  readonly grid?: ActivationGrid;
  readonly form?: StaticForm;
}

/** A dense layer the static pass quantizes: its name and the activation it reads. */
export interface StaticLayer {
  /** The weight's name without `.kernel` / `.weight`: `encoder.layer.0.intermediate.dense`, `…attention.self.qkv`. */
  readonly layer: string;
  readonly input: Value;
}

/** Fixed uint8 quantization of one layer's input, as written into the graph (and xlmt.json). */
export interface ActivationQuantization {
  readonly layer: string;
  readonly range: ActivationRange;
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface StaticQuantizedGraph extends QuantizedGraph {
  readonly activations: readonly ActivationQuantization[];
}

/** `encoder.layer.0.output.dense.kernel` → `encoder.layer.0.output.dense`. */
export const layerName = (weight: string): string => weight.replace(/\.(kernel|weight)$/, '');

function consumersOf(graph: Graph): Map<Value, Node[]> {
  const consumers = new Map<Value, Node[]>();
  for (const node of graph.nodes) {
    for (const v of node.inputs) if (v) consumers.set(v, [...(consumers.get(v) ?? []), node]);
  }
  return consumers;
}

/** The dense layers whose inputs a static export quantizes (those the dynamic pass would rewrite), in graph order. */
export function staticInt8Layers(graph: Graph, params: ParamStore): StaticLayer[] {
  const consumers = consumersOf(graph);
  const layers: StaticLayer[] = [];
  for (const node of graph.nodes) {
    const found = matchWeightMatMul(graph, node, params, consumers) ?? matchPackedAttention(node, params);
    if (!found || 'reason' in found) continue;
    layers.push({ layer: layerName(found.match.weight.name), input: node.inputs[0] as Value });
  }
  return layers;
}

/** uint8 scale and zero point of a range (which must hold 0, as calibrate.ts's ranges do). */
export function uint8Quantization(layer: string, range: ActivationRange): ActivationQuantization {
  if (!(Number.isFinite(range.min) && Number.isFinite(range.max) && range.min <= 0 && range.max >= 0)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizeStaticInt8', field: `ranges.${layer}` }, message: 'an activation range must be finite and hold 0', expected: 'min ≤ 0 ≤ max', received: `[${range.min}, ${range.max}]` });
  }
  const span = range.max - range.min;
  const scale = span > 0 ? Math.fround(span / 255) : 1; // an activation that is always 0: codes 0, any scale
  const zeroPoint = Math.max(0, Math.min(255, Math.round(-range.min / scale)));
  return { layer, range, scale, zeroPoint };
}

/**
 * The symmetric int8 grid of quantization-aware training on uint8 codes, for a range [−R, R]: scale R/127 and zero
 * point 128, so that code c stands for (c − 128)·R/127. The training fake-quantized to clip(round(x·127/R), −127,
 * 127)·R/127 (compress/quantize/fake-quant.ts), which these codes reproduce but for one: −128, the value of x below
 * −127.5·R/127, which the training clips to −127. The scale is computed as the training's graph computes it, from
 * R as a float32 divided in float32, so the two grids are the same floats. (Spreading [−R, R] over uint8's 255
 * steps instead, scale 2R/255, is another grid: on the demo model 96–99 % of every layer's inputs came out
 * different from the training's, by 0.15–0.27 of a step rms, nearly the rounding noise itself, and the export was
 * as far from the fake-quantized model as from fp32; docs/quantization.md.) Zero point 128 rather than 127 puts
 * the extra code on the negative side, which GELU outputs never reach.
 */
export function int8GridQuantization(layer: string, range: ActivationRange): ActivationQuantization {
  if (!(Number.isFinite(range.max) && range.max >= 0 && range.min === -range.max)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizeStaticInt8', field: `ranges.${layer}` }, message: 'a symmetric int8 grid needs a finite range symmetric about 0', expected: '[−R, R] with R ≥ 0', received: `[${range.min}, ${range.max}]` });
  }
  const r = Math.fround(range.max);
  return { layer, range, scale: r > 0 ? Math.fround(r / INT8_MAX) : 1, zeroPoint: INT8_MAX + 1 };
}

/**
 * Static int8 quantization of every dense layer staticInt8Layers lists, with the input of each quantized over
 * `options.ranges` (a missing range is refused, naming the layer). Returns a new graph; the input graph and store
 * are left as they are.
 */
export function quantizeStaticInt8(graph: Graph, params: ParamStore, options: StaticQuantizeOptions): StaticQuantizedGraph {
  const consumers = consumersOf(graph);
  const form = options.form ?? DEFAULT_STATIC_FORM;
  const folded = new Set<Node>();
  const skipped: Skipped[] = [];
  const activations: ActivationQuantization[] = [];
  const int8 = new Map<string, { codes: Value; scale: Value }>();
  const weightOf = (r: Rewriter, w: Parameter): { codes: Value; scale: Value } => {
    const known = int8.get(w.name) ?? int8Constants(r, w, options.perChannel, options.weightBits);
    int8.set(w.name, known);
    return known;
  };
  /** QuantizeLinear of the node's input over its layer's range: the codes, and the scale and zero point as constants. */
  const quantizeInput = (r: Rewriter, node: Node, weight: Parameter): { codes: Value; scale: Value; zeroPoint: Value } => {
    const layer = layerName(weight.name);
    const range = options.ranges.get(layer);
    if (!range) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'quantizeStaticInt8', node: node.name, field: 'ranges' }, message: `no activation range for layer ${layer}`, expected: 'a range for every layer staticInt8Layers lists' });
    }
    const q = options.grid === 'int8' ? int8GridQuantization(layer, range) : uint8Quantization(layer, range);
    activations.push(q);
    const scale = r.g.constant({ dtype: 'float32', shape: [], data: Float32Array.of(q.scale) }, `${layer}.input_scale`);
    const zeroPoint = r.g.constant({ dtype: 'uint8', shape: [], data: Uint8Array.of(q.zeroPoint) }, `${layer}.input_zero_point`);
    return { codes: r.g.op.QuantizeLinear(r.value(node.inputs[0] as Value), scale, zeroPoint), scale, zeroPoint };
  };

  const rewritten = rewriteGraph(graph, (node, r) => {
    if (folded.has(node)) return true;
    const matmul = matchWeightMatMul(graph, node, params, consumers);
    if (matmul && 'reason' in matmul) {
      skipped.push({ node: node.name, opType: node.opType, reason: matmul.reason });
      return false;
    }
    if (matmul) {
      const { weight, biasAdd } = matmul.match;
      r.inScopeOf(node, () => {
        const w = weightOf(r, weight);
        const x = quantizeInput(r, node, weight);
        if (form === 'qdq') {
          const zeros = r.g.constant({ dtype: 'int8', shape: w.scale.shape as number[], data: new Int8Array(w.scale.shape.length === 0 ? 1 : (w.scale.shape[0] as number)) }, `${weight.name}_zero_point`);
          const product = r.g.op.MatMul(
            r.g.op.DequantizeLinear(x.codes, x.scale, x.zeroPoint),
            r.g.op.DequantizeLinear(w.codes, w.scale, zeros, options.perChannel ? { axis: 1 } : {}),
          );
          r.replace(node.outputs[0] as Value, product); // the bias Add, if any, is copied as it was
          return;
        }
        if (biasAdd) folded.add(biasAdd.node);
        const y = r.g.op.ms.MatMulIntegerToFloat({
          a: x.codes, b: w.codes, aScale: x.scale, bScale: w.scale, aZeroPoint: x.zeroPoint, bZeroPoint: null, bias: biasAdd ? r.value(biasAdd.bias) : null,
        });
        r.replace((biasAdd?.node ?? node).outputs[0] as Value, y);
      });
      return true;
    }
    const attention = matchPackedAttention(node, params);
    if (attention && 'reason' in attention) {
      skipped.push({ node: node.name, opType: node.opType, reason: attention.reason });
      return false;
    }
    if (!attention) return false;
    r.inScopeOf(node, () => {
      const [, , bias, mask] = node.inputs;
      const w = weightOf(r, attention.match.weight);
      const x = quantizeInput(r, node, attention.match.weight);
      const heads = node.attributes.num_heads;
      if (heads?.type !== 'int') throw new XlmtError({ code: 'INTERNAL', where: { api: 'quantizeStaticInt8', node: node.name }, message: 'Attention without an int num_heads' });
      const y = r.g.op.ms.QAttention({
        input: x.codes, weight: w.codes, bias: r.value(bias as Value), inputScale: x.scale, weightScale: w.scale,
        maskIndex: mask ? r.value(mask) : null, inputZeroPoint: x.zeroPoint, weightZeroPoint: null,
      }, { num_heads: heads.value });
      r.replace(node.outputs[0] as Value, y);
    });
    return true;
  });

  return { graph: rewritten, params: keptParams(rewritten, params), skipped, activations };
}

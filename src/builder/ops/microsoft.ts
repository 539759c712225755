// Typed ONNX Runtime contrib ops (com.microsoft domain), named and spelled as in onnxruntime's ContribOperators.md.
// Reached as `g.op.ms.<Op>`; their shape rules live in ../infer/microsoft.ts.
import type { Attributes, Value } from '../../ir/graph.ts';
import { defined, float, int } from '../attributes.ts';
import type { GraphBuilder } from '../builder.ts';
import { MICROSOFT_DOMAIN } from '../infer/index.ts';

export interface EmbedLayerNormalizationInputs {
  /** int32 [batch, seq] */
  readonly inputIds: Value;
  /** int32 [batch, seq]; omitted, no segment embedding is added. */
  readonly segmentIds?: Value;
  readonly wordEmbedding: Value;
  readonly positionEmbedding: Value;
  readonly segmentEmbedding?: Value;
  readonly gamma: Value;
  readonly beta: Value;
  /** int32 [batch, seq]; only feeds the mask_index output. */
  readonly mask?: Value;
  /** int32 [batch, seq] or [1, seq]; omitted, token s of every row takes position s. */
  readonly positionIds?: Value;
}

export class MicrosoftOps {
  constructor(private readonly g: GraphBuilder) {}

  private node(opType: string, inputs: readonly (Value | null)[], attributes: Attributes = {}): readonly Value[] {
    return this.g.node(opType, inputs, attributes, { domain: MICROSOFT_DOMAIN });
  }

  private node1(opType: string, inputs: readonly (Value | null)[], attributes: Attributes = {}): Value {
    return this.node(opType, inputs, attributes)[0] as Value;
  }

  /**
   * LayerNorm(word[ids] + position[positions] + segment[segmentIds]). Returns [output [batch, seq, hidden],
   * mask_index int32 [batch]]: ONNX Runtime's CPU kernel writes mask_index unconditionally, so it is always declared.
   */
  EmbedLayerNormalization = (x: EmbedLayerNormalizationInputs, attrs: { epsilon: number }): readonly Value[] =>
    this.node('EmbedLayerNormalization', [
      x.inputIds, x.segmentIds ?? null, x.wordEmbedding, x.positionEmbedding, x.segmentEmbedding ?? null,
      x.gamma, x.beta, x.mask ?? null, x.positionIds ?? null,
    ], { epsilon: float(attrs.epsilon) });

  /**
   * Self-attention with packed projections: weights [in, 3·hidden] hold Q, K and V side by side, bias [3·hidden].
   * mask_index here is the raw int32 mask [batch, seq] (1 attend, 0 padding). Returns [batch, seq, hidden].
   */
  Attention = (input: Value, weights: Value, bias: Value | null, maskIndex: Value | null,
    attrs: { num_heads: number; mask_filter_value?: number; scale?: number }): Value =>
    this.node1('Attention', [input, weights, bias, maskIndex], defined({
      num_heads: int(attrs.num_heads),
      mask_filter_value: attrs.mask_filter_value === undefined ? undefined : float(attrs.mask_filter_value),
      scale: attrs.scale === undefined ? undefined : float(attrs.scale),
    }));

  /** LayerNorm(input + skip + bias)·gamma + beta over the last axis. */
  SkipLayerNormalization = (input: Value, skip: Value, gamma: Value, beta: Value | null, bias: Value | null, attrs: { epsilon: number }): Value =>
    this.node1('SkipLayerNormalization', [input, skip, gamma, beta, bias], { epsilon: float(attrs.epsilon) });

  /** Exact (erf) GELU of a + bias, bias 1-D over the last axis. */
  BiasGelu = (a: Value, bias: Value): Value => this.node1('BiasGelu', [a, bias]);

  /** The tanh approximation of GELU, of x + bias. */
  FastGelu = (x: Value, bias: Value | null = null): Value => this.node1('FastGelu', [x, bias]);

  /**
   * A·dequantize(B) (+ bias): A float, quantized on the fly to uint8 per tensor; B int8/uint8 [K, N] with a scale
   * (and zero point) per tensor (scalar) or per output column ([N]).
   */
  DynamicQuantizeMatMul = (a: Value, b: Value, bScale: Value, bZeroPoint: Value | null, bias: Value | null): Value =>
    this.node1('DynamicQuantizeMatMul', [a, b, bScale, bZeroPoint, bias]);

  /**
   * dequantize(A)·dequantize(B) (+ bias) as float: A already quantized (uint8 or int8, by a QuantizeLinear with a
   * fixed scale), B int8/uint8 [K, N]; scales and zero points per tensor, B's also per output column ([N]).
   */
  MatMulIntegerToFloat = (x: { a: Value; b: Value; aScale: Value; bScale: Value; aZeroPoint: Value | null; bZeroPoint: Value | null; bias: Value | null }): Value =>
    this.node1('MatMulIntegerToFloat', [x.a, x.b, x.aScale, x.bScale, x.aZeroPoint, x.bZeroPoint, x.bias]);

  /**
   * Attention on an input already quantized (uint8, by DynamicQuantizeLinear) with an int8 packed weight
   * [in, 3·hidden]; weight_scale per tensor or per column. Returns float [batch, seq, hidden].
   */
  QAttention = (
    x: { input: Value; weight: Value; bias: Value; inputScale: Value; weightScale: Value; maskIndex: Value | null; inputZeroPoint: Value | null; weightZeroPoint: Value | null },
    attrs: { num_heads: number },
  ): Value =>
    this.node1('QAttention', [x.input, x.weight, x.bias, x.inputScale, x.weightScale, x.maskIndex, x.inputZeroPoint, x.weightZeroPoint],
      { num_heads: int(attrs.num_heads) });
}

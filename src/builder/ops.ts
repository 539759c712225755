// Typed ONNX ops: names and attribute spellings exactly as in the ONNX spec (opset 18).
import { type DType, ONNX_ELEM_TYPE } from '../ir/dtype.ts';
import type { Value } from '../ir/graph.ts';
import { tensorFromNumbers } from '../ir/tensor.ts';
import { defined, float, int, ints, tensor } from './attributes.ts';
import type { GraphBuilder } from './builder.ts';
import { MicrosoftOps } from './ops/microsoft.ts';

/** An operand: a graph value, or a number that becomes a scalar constant of the other operand's type. */
export type Operand = Value | number;

export class Ops {
  /** ONNX Runtime's com.microsoft contrib ops (fused inference kernels, dynamic quantization). */
  readonly ms: MicrosoftOps;

  constructor(private readonly g: GraphBuilder) {
    this.ms = new MicrosoftOps(g);
  }

  private binary(opType: string, a: Operand, b: Operand): Value {
    const dtype: DType = typeof a === 'number' ? (typeof b === 'number' ? 'float32' : b.dtype) : a.dtype;
    const lift = (x: Operand): Value => (typeof x === 'number' ? this.g.scalar(x, dtype) : x);
    return this.g.node1(opType, [lift(a), lift(b)]);
  }

  private unary(opType: string, x: Value): Value {
    return this.g.node1(opType, [x]);
  }

  // Elementwise arithmetic
  Add = (a: Operand, b: Operand): Value => this.binary('Add', a, b);
  Sub = (a: Operand, b: Operand): Value => this.binary('Sub', a, b);
  Mul = (a: Operand, b: Operand): Value => this.binary('Mul', a, b);
  Div = (a: Operand, b: Operand): Value => this.binary('Div', a, b);
  Pow = (a: Operand, b: Operand): Value => this.binary('Pow', a, b);
  Max = (...xs: Value[]): Value => this.g.node1('Max', xs);
  Min = (...xs: Value[]): Value => this.g.node1('Min', xs);
  Sum = (...xs: Value[]): Value => this.g.node1('Sum', xs);
  Neg = (x: Value): Value => this.unary('Neg', x);
  Abs = (x: Value): Value => this.unary('Abs', x);
  Sqrt = (x: Value): Value => this.unary('Sqrt', x);
  Reciprocal = (x: Value): Value => this.unary('Reciprocal', x);
  Exp = (x: Value): Value => this.unary('Exp', x);
  Log = (x: Value): Value => this.unary('Log', x);
  Tanh = (x: Value): Value => this.unary('Tanh', x);
  Erf = (x: Value): Value => this.unary('Erf', x);
  Sigmoid = (x: Value): Value => this.unary('Sigmoid', x);
  Relu = (x: Value): Value => this.unary('Relu', x);
  Softplus = (x: Value): Value => this.unary('Softplus', x);
  Identity = (x: Value): Value => this.unary('Identity', x);
  /** Round half to even (the spec's rounding, like numpy's). */
  Round = (x: Value): Value => this.unary('Round', x);
  /** min(max(x, min), max); the bounds are 0-D, numbers become constants of x's type. */
  Clip = (x: Value, min: Operand, max: Operand): Value => {
    const lift = (b: Operand): Value => (typeof b === 'number' ? this.g.scalar(b, x.dtype) : b);
    return this.g.node1('Clip', [x, lift(min), lift(max)]);
  };

  /** ONNX Runtime's exact (erf) GELU, com.microsoft domain. */
  Gelu = (x: Value): Value => this.g.node1('Gelu', [x], {}, { domain: 'com.microsoft' });

  // Comparison and logic
  Equal = (a: Operand, b: Operand): Value => this.binary('Equal', a, b);
  Less = (a: Operand, b: Operand): Value => this.binary('Less', a, b);
  LessOrEqual = (a: Operand, b: Operand): Value => this.binary('LessOrEqual', a, b);
  Greater = (a: Operand, b: Operand): Value => this.binary('Greater', a, b);
  GreaterOrEqual = (a: Operand, b: Operand): Value => this.binary('GreaterOrEqual', a, b);
  Not = (x: Value): Value => this.unary('Not', x);
  And = (a: Value, b: Value): Value => this.g.node1('And', [a, b]);
  Or = (a: Value, b: Value): Value => this.g.node1('Or', [a, b]);
  Where = (condition: Value, x: Operand, y: Operand): Value => {
    const dtype = typeof x === 'number' ? (typeof y === 'number' ? 'float32' : y.dtype) : x.dtype;
    const lift = (v: Operand): Value => (typeof v === 'number' ? this.g.scalar(v, dtype) : v);
    return this.g.node1('Where', [condition, lift(x), lift(y)]);
  };
  Cast = (x: Value, to: DType): Value => this.g.node1('Cast', [x], { to: int(ONNX_ELEM_TYPE[to]) });

  // Linear algebra
  MatMul = (a: Value, b: Value): Value => this.g.node1('MatMul', [a, b]);
  Gemm = (a: Value, b: Value, c: Value | null = null, attrs: { transA?: number; transB?: number; alpha?: number; beta?: number } = {}): Value =>
    this.g.node1('Gemm', [a, b, c], defined({
      transA: attrs.transA === undefined ? undefined : int(attrs.transA),
      transB: attrs.transB === undefined ? undefined : int(attrs.transB),
      alpha: attrs.alpha === undefined ? undefined : float(attrs.alpha),
      beta: attrs.beta === undefined ? undefined : float(attrs.beta),
    }));

  // Neural-network ops
  /** Running sum along `axis` (a 0-D int64 input in the spec). */
  CumSum = (x: Value, axis: number): Value => this.g.node1('CumSum', [x, this.g.scalar(axis, 'int64')]);
  Softmax = (x: Value, attrs: { axis?: number } = {}): Value => this.g.node1('Softmax', [x], { axis: int(attrs.axis ?? -1) });
  LogSoftmax = (x: Value, attrs: { axis?: number } = {}): Value => this.g.node1('LogSoftmax', [x], { axis: int(attrs.axis ?? -1) });
  /** Returns [Y, Mean, InvStdDev]. */
  LayerNormalization = (x: Value, scale: Value, bias: Value | null, attrs: { axis?: number; epsilon?: number } = {}): readonly Value[] =>
    this.g.node('LayerNormalization', [x, scale, bias], { axis: int(attrs.axis ?? -1), epsilon: float(attrs.epsilon ?? 1e-5) });
  /** Training-mode dropout. Returns [output, mask]. */
  Dropout = (x: Value, ratio: number, attrs: { seed?: number } = {}): readonly Value[] =>
    this.g.node('Dropout', [x, this.g.scalar(ratio, x.dtype), this.g.constant(tensorFromNumbers('bool', [], [1]))],
      defined({ seed: attrs.seed === undefined ? undefined : int(attrs.seed) }));

  // Quantization
  /** x → [y uint8, y_scale float32 [], y_zero_point uint8 []]: asymmetric uint8 over x's own min/max (and 0). */
  DynamicQuantizeLinear = (x: Value): readonly Value[] => this.g.node('DynamicQuantizeLinear', [x]);
  /** round(x / scale) + zero point, saturated to the zero point's type (uint8 or int8); scale and zero point fixed. */
  QuantizeLinear = (x: Value, scale: Value, zeroPoint: Value): Value => this.g.node1('QuantizeLinear', [x, scale, zeroPoint]);
  /** (x − zero point) · scale as float32; `axis` is the axis a 1-D scale runs along (per channel). */
  DequantizeLinear = (x: Value, scale: Value, zeroPoint: Value | null, attrs: { axis?: number } = {}): Value =>
    this.g.node1('DequantizeLinear', [x, scale, zeroPoint], defined({ axis: attrs.axis === undefined ? undefined : int(attrs.axis) }));

  // Reductions (axes as a constant input, opset 18)
  private reduce(opType: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
    return this.g.node1(opType, [x, axes ? this.g.ints(axes) : null], { keepdims: int(keepdims ? 1 : 0) });
  }
  ReduceSum = (x: Value, axes?: readonly number[], attrs: { keepdims?: boolean } = {}): Value => this.reduce('ReduceSum', x, axes, attrs.keepdims ?? true);
  ReduceMean = (x: Value, axes?: readonly number[], attrs: { keepdims?: boolean } = {}): Value => this.reduce('ReduceMean', x, axes, attrs.keepdims ?? true);
  ReduceMax = (x: Value, axes?: readonly number[], attrs: { keepdims?: boolean } = {}): Value => this.reduce('ReduceMax', x, axes, attrs.keepdims ?? true);
  ReduceMin = (x: Value, axes?: readonly number[], attrs: { keepdims?: boolean } = {}): Value => this.reduce('ReduceMin', x, axes, attrs.keepdims ?? true);
  ReduceSumSquare = (x: Value, axes?: readonly number[], attrs: { keepdims?: boolean } = {}): Value => this.reduce('ReduceSumSquare', x, axes, attrs.keepdims ?? true);

  // Layout
  Shape = (x: Value, attrs: { start?: number; end?: number } = {}): Value =>
    this.g.node1('Shape', [x], defined({ start: attrs.start === undefined ? undefined : int(attrs.start), end: attrs.end === undefined ? undefined : int(attrs.end) }));
  /** `shape` is a Value (from Shape, Concat…) or literal dims (0 copies, -1 infers). */
  Reshape = (x: Value, shape: Value | readonly number[]): Value =>
    this.g.node1('Reshape', [x, Array.isArray(shape) ? this.g.ints(shape) : (shape as Value)]);
  Transpose = (x: Value, perm?: readonly number[]): Value => this.g.node1('Transpose', [x], defined({ perm: perm ? ints(perm) : undefined }));
  Squeeze = (x: Value, axes?: readonly number[]): Value => this.g.node1('Squeeze', [x, axes ? this.g.ints(axes) : null]);
  Unsqueeze = (x: Value, axes: readonly number[]): Value => this.g.node1('Unsqueeze', [x, this.g.ints(axes)]);
  Concat = (xs: readonly Value[], axis: number): Value => this.g.node1('Concat', xs, { axis: int(axis) });
  Split = (x: Value, split: Value | readonly number[], axis = 0): readonly Value[] =>
    this.g.node('Split', [x, Array.isArray(split) ? this.g.ints(split) : (split as Value)], { axis: int(axis) });
  Slice = (x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value =>
    this.g.node1('Slice', [x, this.g.ints(starts), this.g.ints(ends), axes ? this.g.ints(axes) : null, steps ? this.g.ints(steps) : null]);
  Gather = (data: Value, indices: Value, axis = 0): Value => this.g.node1('Gather', [data, indices], { axis: int(axis) });
  GatherElements = (data: Value, indices: Value, axis = 0): Value => this.g.node1('GatherElements', [data, indices], { axis: int(axis) });
  ScatterElements = (data: Value, indices: Value, updates: Value, attrs: { axis?: number; reduction?: 'none' | 'add' } = {}): Value =>
    this.g.node1('ScatterElements', [data, indices, updates], defined({ axis: int(attrs.axis ?? 0), reduction: attrs.reduction ? { type: 'string', value: attrs.reduction } : undefined }));
  ScatterND = (data: Value, indices: Value, updates: Value, attrs: { reduction?: 'none' | 'add' } = {}): Value =>
    this.g.node1('ScatterND', [data, indices, updates], defined({ reduction: attrs.reduction ? { type: 'string', value: attrs.reduction } : undefined }));
  Size = (x: Value): Value => this.g.node1('Size', [x]);
  /** Constant-mode Pad; `pads` is [begin..., end...] for `axes` (all axes when omitted). */
  Pad = (x: Value, pads: Value | readonly number[], axes?: readonly number[]): Value =>
    this.g.node1('Pad', [x, Array.isArray(pads) ? this.g.ints(pads) : (pads as Value), null, axes ? this.g.ints(axes) : null]);
  Expand = (x: Value, shape: Value | readonly number[]): Value =>
    this.g.node1('Expand', [x, Array.isArray(shape) ? this.g.ints(shape) : (shape as Value)]);
  ConstantOfShape = (shape: Value, value: number, dtype: DType = 'float32'): Value =>
    this.g.node1('ConstantOfShape', [shape], { value: tensor(tensorFromNumbers(dtype, [1], [value])) });
}

// Shape inference for ONNX Runtime's com.microsoft contrib ops used by xlmt graphs (specs: ContribOperators.md).
import { type DType, isFloat } from '../../ir/dtype.ts';
import type { Value } from '../../ir/graph.ts';
import { type Dim, formatShape } from '../../ir/shape.ts';
import { fail } from '../errors.ts';
import type { InferContext, InferTable } from './context.ts';

/** Two dims that may be equal: a symbol matches anything, only the running graph can tell. */
const mayEqual = (a: Dim | undefined, b: Dim | undefined): boolean => a === b || typeof a === 'string' || typeof b === 'string';

function expect(ctx: InferContext, i: number, what: string, rank: number, dtypes: readonly DType[]): Value {
  const v = ctx.input(i);
  if (v.shape.length !== rank) fail(`${what} (input ${i}) must have rank ${rank}, got ${formatShape(v.shape)}`);
  if (!dtypes.includes(v.dtype)) fail(`${what} (input ${i}) must be ${dtypes.join(' or ')}, got ${v.dtype}`);
  return v;
}

function expectVector(ctx: InferContext, i: number, what: string, size: Dim, dtype: DType): void {
  const v = ctx.optionalInput(i);
  if (!v) return;
  if (v.dtype !== dtype) fail(`${what} (input ${i}) must be ${dtype}, got ${v.dtype}`);
  if (v.shape.length !== 1 || !mayEqual(v.shape[0], size)) fail(`${what} (input ${i}) must be [${size}], got ${formatShape(v.shape)}`);
}

/** A quantization parameter: a scalar (per tensor) or a vector with one entry per output column. */
function expectScaleOrColumns(ctx: InferContext, i: number, what: string, columns: Dim, dtypes: readonly DType[]): void {
  const v = ctx.optionalInput(i);
  if (!v) return;
  if (!dtypes.includes(v.dtype)) fail(`${what} (input ${i}) must be ${dtypes.join(' or ')}, got ${v.dtype}`);
  const scalar = v.shape.length === 0 || (v.shape.length === 1 && v.shape[0] === 1);
  if (!scalar && !(v.shape.length === 1 && mayEqual(v.shape[0], columns))) {
    fail(`${what} (input ${i}) must be a scalar or [${columns}] (one per column), got ${formatShape(v.shape)}`);
  }
}

const FLOATS: readonly DType[] = ['float32', 'float16'];
const INT8S: readonly DType[] = ['int8', 'uint8'];

export const microsoftShapes: InferTable = {
  Gelu: (ctx) => {
    const x = ctx.input(0);
    if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },

  BiasGelu: (ctx) => {
    const a = ctx.input(0);
    if (!isFloat(a.dtype)) fail(`needs a floating-point input, got ${a.dtype}`);
    expectVector(ctx, 1, 'bias', a.shape[a.shape.length - 1] ?? 1, a.dtype);
    return [{ dtype: a.dtype, shape: a.shape }];
  },

  FastGelu: (ctx) => {
    const x = ctx.input(0);
    if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
    expectVector(ctx, 1, 'bias', x.shape[x.shape.length - 1] ?? 1, x.dtype);
    return [{ dtype: x.dtype, shape: x.shape }];
  },

  EmbedLayerNormalization: (ctx) => {
    const ids = expect(ctx, 0, 'input_ids', 2, ['int32']);
    const word = expect(ctx, 2, 'word_embedding', 2, FLOATS);
    const hidden = word.shape[1] as Dim;
    for (const [i, what] of [[3, 'position_embedding'], [4, 'segment_embedding']] as const) {
      if (i === 4 && !ctx.optionalInput(i)) continue;
      const table = expect(ctx, i, what, 2, [word.dtype]);
      if (!mayEqual(table.shape[1], hidden)) fail(`${what} has width ${table.shape[1]}, word_embedding has ${hidden}`);
    }
    if (Boolean(ctx.optionalInput(1)) !== Boolean(ctx.optionalInput(4))) fail('segment_ids and segment_embedding come together or not at all');
    expectVector(ctx, 5, 'gamma', hidden, word.dtype);
    expectVector(ctx, 6, 'beta', hidden, word.dtype);
    for (const [i, what] of [[1, 'segment_ids'], [7, 'mask'], [8, 'position_ids']] as const) {
      if (!ctx.optionalInput(i)) continue;
      const v = expect(ctx, i, what, 2, ['int32']);
      const rowsFit = mayEqual(v.shape[0], ids.shape[0]) || (i === 8 && v.shape[0] === 1);
      if (!rowsFit || !mayEqual(v.shape[1], ids.shape[1])) fail(`${what} ${formatShape(v.shape)} does not match input_ids ${formatShape(ids.shape)}`);
    }
    const [batch, seq] = ids.shape as [Dim, Dim];
    return [{ dtype: word.dtype, shape: [batch, seq, hidden] }, { dtype: 'int32', shape: [batch] }];
  },

  Attention: (ctx) => {
    const x = expect(ctx, 0, 'input', 3, FLOATS);
    const w = expect(ctx, 1, 'weights', 2, [x.dtype]);
    const heads = ctx.int('num_heads', 0);
    if (heads <= 0) fail('the num_heads attribute is required');
    if (!mayEqual(w.shape[0], x.shape[2])) fail(`weights ${formatShape(w.shape)} do not take inputs of width ${x.shape[2]}`);
    if (ctx.ints('qkv_hidden_sizes')) fail('qkv_hidden_sizes (Q, K, V of different widths) is not supported by this rule');
    const packed = w.shape[1];
    if (typeof packed !== 'number' || packed % 3 !== 0 || (packed / 3) % heads !== 0) {
      fail(`weights ${formatShape(w.shape)} must pack Q, K and V of equal width divisible by num_heads ${heads}`);
    }
    expectVector(ctx, 2, 'bias', packed, x.dtype);
    const mask = ctx.optionalInput(3);
    if (mask) {
      if (mask.dtype !== 'int32') fail(`mask_index (input 3) must be int32, got ${mask.dtype}`);
      if (mask.shape.length === 2 && !(mayEqual(mask.shape[0], x.shape[0]) && mayEqual(mask.shape[1], x.shape[1]))) {
        fail(`a raw mask must be [batch, seq] like the input ${formatShape(x.shape)}, got ${formatShape(mask.shape)}`);
      }
    }
    return [{ dtype: x.dtype, shape: [x.shape[0] as Dim, x.shape[1] as Dim, packed / 3] }];
  },

  SkipLayerNormalization: (ctx) => {
    const x = expect(ctx, 0, 'input', 3, FLOATS);
    const skip = ctx.input(1);
    if (skip.dtype !== x.dtype) fail(`skip is ${skip.dtype}, input is ${x.dtype}`);
    const hidden = x.shape[2] as Dim;
    const tail = skip.shape.slice(-2);
    if (skip.shape.length < 2 || skip.shape.length > 3 || !mayEqual(tail[0], x.shape[1]) || !mayEqual(tail[1], hidden)) {
      fail(`skip ${formatShape(skip.shape)} must be [batch, seq, hidden], [1, seq, hidden] or [seq, hidden] for input ${formatShape(x.shape)}`);
    }
    expectVector(ctx, 2, 'gamma', hidden, x.dtype);
    expectVector(ctx, 3, 'beta', hidden, x.dtype);
    expectVector(ctx, 4, 'bias', hidden, x.dtype);
    return [{ dtype: x.dtype, shape: x.shape }];
  },

  DynamicQuantizeMatMul: (ctx) => {
    const a = ctx.input(0);
    if (a.dtype !== 'float32') fail(`A must be float32, got ${a.dtype}`);
    if (a.shape.length < 2) fail(`A must have rank >= 2, got ${formatShape(a.shape)}`);
    const b = expect(ctx, 1, 'B', 2, INT8S);
    const [k, n] = b.shape as [Dim, Dim];
    if (!mayEqual(a.shape[a.shape.length - 1], k)) fail(`inner dimensions differ: A ${formatShape(a.shape)}, B ${formatShape(b.shape)}`);
    expectScaleOrColumns(ctx, 2, 'b_scale', n, ['float32']);
    expectScaleOrColumns(ctx, 3, 'b_zero_point', n, [b.dtype]);
    expectVector(ctx, 4, 'bias', n, 'float32');
    return [{ dtype: 'float32', shape: [...a.shape.slice(0, -1), n] }];
  },

  MatMulIntegerToFloat: (ctx) => {
    const a = ctx.input(0);
    if (!INT8S.includes(a.dtype)) fail(`A must be uint8 or int8, got ${a.dtype}`);
    if (a.shape.length < 2) fail(`A must have rank >= 2, got ${formatShape(a.shape)}`);
    const b = expect(ctx, 1, 'B', 2, INT8S);
    const [k, n] = b.shape as [Dim, Dim];
    if (!mayEqual(a.shape[a.shape.length - 1], k)) fail(`inner dimensions differ: A ${formatShape(a.shape)}, B ${formatShape(b.shape)}`);
    expectScaleOrColumns(ctx, 2, 'a_scale', 1, ['float32']);
    expectScaleOrColumns(ctx, 3, 'b_scale', n, ['float32']);
    expectScaleOrColumns(ctx, 4, 'a_zero_point', 1, [a.dtype]);
    expectScaleOrColumns(ctx, 5, 'b_zero_point', n, [b.dtype]);
    expectVector(ctx, 6, 'bias', n, 'float32');
    return [{ dtype: 'float32', shape: [...a.shape.slice(0, -1), n] }];
  },

  QAttention: (ctx) => {
    const x = expect(ctx, 0, 'input', 3, INT8S);
    const w = expect(ctx, 1, 'weight', 2, INT8S);
    const heads = ctx.int('num_heads', 0);
    if (heads <= 0) fail('the num_heads attribute is required');
    if (!mayEqual(w.shape[0], x.shape[2])) fail(`weight ${formatShape(w.shape)} does not take inputs of width ${x.shape[2]}`);
    const packed = w.shape[1];
    if (typeof packed !== 'number' || packed % 3 !== 0 || (packed / 3) % heads !== 0) {
      fail(`weight ${formatShape(w.shape)} must pack Q, K and V of equal width divisible by num_heads ${heads}`);
    }
    expectVector(ctx, 2, 'bias', packed, 'float32');
    expectScaleOrColumns(ctx, 3, 'input_scale', 1, ['float32']);
    expectScaleOrColumns(ctx, 4, 'weight_scale', packed, ['float32']);
    expectScaleOrColumns(ctx, 6, 'input_zero_point', 1, [x.dtype]);
    expectScaleOrColumns(ctx, 7, 'weight_zero_point', packed, [w.dtype]);
    return [{ dtype: 'float32', shape: [x.shape[0] as Dim, x.shape[1] as Dim, packed / 3] }];
  },
};

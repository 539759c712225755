// Shape inference for ops that move, select or reshape data without computing on it.
import { type Dim, dimDivide, dimProduct, formatShape, type Shape } from '../../ir/shape.ts';
import { fail } from '../errors.ts';
import type { InferTable } from './context.ts';

function sameDims(a: Dim | undefined, b: Dim | undefined): boolean {
  return a === b || typeof a === 'string' || typeof b === 'string';
}

export const layoutShapes: InferTable = {
  Shape: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length;
    const clamp = (i: number): number => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
    const contents = x.shape.slice(clamp(ctx.int('start', 0)), clamp(ctx.int('end', rank)));
    return [{ dtype: 'int64', shape: [contents.length], contents }];
  },

  Size: (ctx) => {
    ctx.input(0);
    return [{ dtype: 'int64', shape: [] }];
  },

  /** Opset 18 Pad with an optional axes input; padded sizes are known only when the pads are constants. */
  Pad: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length;
    const axes = ctx.optionalInput(3) ? ctx.constantInts(3, 'axes').map((a) => ctx.axis(a, rank)) : x.shape.map((_, i) => i);
    const pads = ctx.contents(1);
    const shape = [...x.shape];
    axes.forEach((axis, i) => {
      const before = pads?.[i];
      const after = pads?.[i + axes.length];
      const dim = x.shape[axis];
      shape[axis] = typeof dim === 'number' && typeof before === 'number' && typeof after === 'number' ? dim + before + after : ctx.unknownDim();
    });
    return [{ dtype: x.dtype, shape }];
  },

  Reshape: (ctx) => {
    const x = ctx.input(0);
    const target = ctx.contents(1);
    if (!target) fail('the target shape must be a constant or come from Shape, for shape inference');
    const allowZero = ctx.int('allowzero', 0) === 1;
    const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? fail(`target dim ${i} is 0 (copy) but the input has rank ${x.shape.length}`)) : d));
    const inferAt = out.indexOf(-1);
    if (out.filter((d) => d === -1).length > 1) fail(`target shape ${formatShape(target)} has more than one -1`);
    const total = dimProduct(x.shape);
    if (inferAt >= 0) {
      const rest = dimProduct(out.filter((_, i) => i !== inferAt));
      out[inferAt] = dimDivide(total, rest) ?? ctx.unknownDim();
    } else {
      const product = dimProduct(out);
      if (typeof product === 'number' && typeof total === 'number' && product !== total) {
        fail(`cannot reshape ${formatShape(x.shape)} (${total} elements) to ${formatShape(out)} (${product} elements)`);
      }
    }
    return [{ dtype: x.dtype, shape: out }];
  },

  Transpose: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length;
    const perm = ctx.ints('perm') ?? x.shape.map((_, i) => rank - 1 - i);
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== rank || sorted.some((p, i) => p !== i)) fail(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p] as Dim) }];
  },

  Squeeze: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length;
    const axes = ctx.optionalInput(1)
      ? ctx.constantInts(1, 'axes').map((a) => ctx.axis(a, rank))
      : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) if (x.shape[a] !== 1 && typeof x.shape[a] === 'number') fail(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
  },

  Unsqueeze: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length + ctx.constantInts(1, 'axes').length;
    const axes = ctx.constantInts(1, 'axes').map((a) => ctx.axis(a, rank));
    const out: Dim[] = [];
    let next = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : (x.shape[next++] as Dim));
    return [{ dtype: x.dtype, shape: out }];
  },

  Concat: (ctx) => {
    const first = ctx.input(0);
    const rank = first.shape.length;
    const axis = ctx.axis(ctx.int('axis', 0), rank);
    const dtype = ctx.sameDtype(ctx.inputs.map((_, i) => i));
    const sizes: Dim[] = [];
    ctx.inputs.forEach((v, i) => {
      if (!v) fail(`input ${i} is missing`);
      if (v.shape.length !== rank) fail(`input ${i} has rank ${v.shape.length}, input 0 has rank ${rank}`);
      v.shape.forEach((d, j) => {
        if (j !== axis && !sameDims(d, first.shape[j])) fail(`input ${i} has ${d} at axis ${j}, input 0 has ${first.shape[j]}`);
      });
      sizes.push(v.shape[axis] as Dim);
    });
    const joined = sizes.every((s): s is number => typeof s === 'number') ? sizes.reduce((a, b) => a + b, 0) : ctx.unknownDim();
    const shape = first.shape.map((d, j) => (j === axis ? joined : d));
    // Concatenated shape vectors keep their symbolic contents (used to build Reshape targets).
    const parts = ctx.inputs.map((_, i) => ctx.contents(i));
    const contents = rank === 1 && parts.every((p) => p !== undefined) ? parts.flat() : undefined;
    return [{ dtype, shape, ...(contents ? { contents } : {}) }];
  },

  Split: (ctx) => {
    const x = ctx.input(0);
    const axis = ctx.axis(ctx.int('axis', 0), x.shape.length);
    const dim = x.shape[axis] as Dim;
    let sizes: Dim[];
    const known = ctx.contents(1);
    if (ctx.optionalInput(1) && !known) {
      // Sizes computed at run time (the gradient of a Concat of symbolic sizes): one output per size.
      const count = ctx.input(1).shape[0];
      if (typeof count !== 'number') fail('the number of split sizes must be known when building');
      sizes = Array.from({ length: count }, () => ctx.unknownDim());
    } else if (known) {
      // Sizes may be symbolic (read off Shape); their sum is checked only when all are numbers.
      sizes = [...known];
      const numeric = sizes.every((s): s is number => typeof s === 'number');
      const sum = sizes.reduce<number>((a, b) => a + Number(b), 0);
      if (numeric && typeof dim === 'number' && sum !== dim) fail(`split sizes [${sizes.join(', ')}] sum to ${sum}, axis ${axis} has ${dim}`);
    } else {
      const n = ctx.int('num_outputs', 0);
      if (n <= 0) fail('give split sizes (input 1) or the num_outputs attribute');
      if (typeof dim === 'number' && dim % n !== 0) fail(`axis ${axis} of size ${dim} does not split evenly into ${n} outputs`);
      sizes = Array.from({ length: n }, () => (typeof dim === 'number' ? dim / n : ctx.unknownDim()));
    }
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, j) => (j === axis ? s : d)) }));
  },

  Slice: (ctx) => {
    const x = ctx.input(0);
    const rank = x.shape.length;
    const starts = ctx.constantInts(1, 'starts');
    const ends = ctx.constantInts(2, 'ends');
    const axes = ctx.optionalInput(3) ? ctx.constantInts(3, 'axes') : starts.map((_, i) => i);
    const steps = ctx.optionalInput(4) ? ctx.constantInts(4, 'steps') : starts.map(() => 1);
    const shape: Dim[] = [...x.shape];
    axes.forEach((rawAxis, i) => {
      const axis = ctx.axis(rawAxis, rank);
      const step = steps[i] ?? 1;
      if (step !== 1) fail('only step 1 is supported by shape inference');
      const dim = x.shape[axis] as Dim;
      const start = starts[i] ?? 0;
      const end = ends[i] ?? 0;
      if (typeof dim === 'number') {
        const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
        shape[axis] = Math.max(clamp(end) - clamp(start), 0);
      } else if (start === 0 && end >= 2 ** 31 - 1) {
        shape[axis] = dim;
      } else {
        shape[axis] = ctx.unknownDim();
      }
    });
    // A slice of a shape vector keeps its symbolic contents.
    const source = ctx.contents(0);
    const first = typeof x.shape[0] === 'number' ? Math.min(Math.max((starts[0] ?? 0) < 0 ? (starts[0] ?? 0) + x.shape[0] : (starts[0] ?? 0), 0), x.shape[0]) : 0;
    const contents = rank === 1 && source && typeof shape[0] === 'number' ? source.slice(first, first + shape[0]) : undefined;
    return [{ dtype: x.dtype, shape, ...(contents ? { contents } : {}) }];
  },

  Gather: (ctx) => {
    const data = ctx.input(0);
    const indices = ctx.input(1);
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') fail(`indices must be int64 or int32, got ${indices.dtype}`);
    const axis = ctx.axis(ctx.int('axis', 0), data.shape.length);
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    return [{ dtype: data.dtype, shape }];
  },

  GatherElements: (ctx) => {
    const data = ctx.input(0);
    const indices = ctx.input(1);
    if (indices.shape.length !== data.shape.length) fail(`indices rank ${indices.shape.length} differs from data rank ${data.shape.length}`);
    return [{ dtype: data.dtype, shape: indices.shape }];
  },

  ScatterElements: (ctx) => [{ dtype: ctx.sameDtype([0, 2]), shape: ctx.input(0).shape }],

  ScatterND: (ctx) => [{ dtype: ctx.sameDtype([0, 2]), shape: ctx.input(0).shape }],

  Expand: (ctx) => {
    const x = ctx.input(0);
    const target = ctx.contents(1);
    if (!target) fail('the target shape must be a constant or come from Shape, for shape inference');
    const rank = Math.max(target.length, x.shape.length);
    const shape: Dim[] = [];
    for (let i = 0; i < rank; i++) {
      const a = x.shape[i - (rank - x.shape.length)] ?? 1;
      const b = target[i - (rank - target.length)] ?? 1;
      if (a !== 1 && b !== 1 && !sameDims(a, b)) fail(`cannot expand ${formatShape(x.shape)} to ${formatShape(target)}`);
      shape.push(a === 1 ? b : a);
    }
    return [{ dtype: x.dtype, shape }];
  },

  ConstantOfShape: (ctx) => {
    const target = ctx.contents(0);
    if (!target) fail('the shape must be a constant or come from Shape, for shape inference');
    const value = ctx.attributes.value;
    const dtype = value?.type === 'tensor' ? value.value.dtype : 'float32';
    return [{ dtype, shape: target as Shape }];
  },
};

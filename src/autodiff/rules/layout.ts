// Gradient rules for ops that move or select data: route dy back to where each element came from.
import type { Value } from '../../ir/graph.ts';
import { attrInt, attrInts } from '../../ir/graph.ts';
import { AutodiffError, type GradientRules, type RowGradient } from '../types.ts';
import { invertPermutation, reshapeBack } from './helpers.ts';

export const layoutGradients = {
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: ({ op, dy, x, node }) => {
    const rank = x(0).shape.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    return [op.Transpose(dy, invertPermutation(perm))];
  },
  // Broadcasting: the engine sums dy down to the input's shape.
  Expand: ({ dy }) => [dy, null],
  Concat: ({ op, dy, node }) => {
    const inputs = node.inputs as readonly Value[];
    const rank = dy.shape.length;
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
    const sizes = inputs.map((v) => v.shape[axis]);
    const split = sizes.every((s): s is number => typeof s === 'number')
      ? sizes
      : op.Concat(inputs.map((v) => op.Shape(v, { start: axis, end: axis + 1 })), 0);
    return op.Split(dy, split, axis);
  },
  Split: ({ op, dys, node }) => {
    const axis = attrInt(node, 'axis', 0);
    const parts = node.outputs.map((o, i) => dys[i] ?? op.ConstantOfShape(op.Shape(o), 0, o.dtype));
    return [op.Concat(parts, axis), null];
  },
  // Pad dy back to the input's extent along the sliced axes (step 1 only).
  Slice: ({ g, op, dy, x, node }) => {
    const data = x(0);
    const rank = data.shape.length;
    const starts = node.inputs[1]?.contents;
    const axesGiven = node.inputs[3]?.contents;
    const steps = node.inputs[4]?.contents;
    if (!starts || starts.some((s) => typeof s !== 'number') || (steps && steps.some((s) => s !== 1))) {
      throw new AutodiffError(node.name, node.opType, 'gradient needs constant starts and steps of 1');
    }
    const axes = (axesGiven ?? starts.map((_, i) => i)).map((a) => (Number(a) < 0 ? Number(a) + rank : Number(a)));
    const dimsX = op.Gather(op.Shape(data), g.ints(axes));
    const dimsY = op.Gather(op.Shape(dy), g.ints(axes));
    const rawStarts = g.ints(starts.map(Number));
    const begin = op.Min(op.Max(op.Where(op.Less(rawStarts, 0), op.Add(rawStarts, dimsX), rawStarts), g.ints(axes.map(() => 0))), dimsX);
    const end = op.Sub(op.Sub(dimsX, begin), dimsY);
    return [op.Pad(dy, op.Concat([begin, end], 0), axes), null, null, null, null];
  },
  // Axis 0 of a table: the rows used (kept sparse for embedding parameters). Other axes: moved to the front,
  // scattered, and moved back.
  Gather: ({ g, op, dy, x, node }) => {
    const data = x(0);
    const indices = x(1);
    const rank = data.shape.length;
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
    const flatIndices = op.Reshape(op.Cast(indices, 'int64'), [-1]);
    const positive = op.Where(op.Less(flatIndices, 0), op.Add(flatIndices, op.Gather(op.Shape(data), g.ints([axis]))), flatIndices);
    if (axis === 0) {
      const rowShape = op.Concat([g.ints([-1]), op.Shape(data, { start: 1 })], 0);
      const rows: RowGradient = { kind: 'rows', indices: positive, values: op.Reshape(dy, rowShape) };
      return [rows, null];
    }
    const q = indices.shape.length;
    // dy: [data[:axis], indices…, data[axis+1:]] → [indices…, data[:axis], data[axis+1:]]
    const front = [...Array.from({ length: q }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: rank - axis - 1 }, (_, i) => axis + q + i)];
    const moved = op.Transpose(dy, front);
    const toFront = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
    const zeros = op.ConstantOfShape(op.Shape(op.Transpose(data, toFront)), 0, data.dtype);
    const rowShape = op.Concat([g.ints([-1]), op.Shape(zeros, { start: 1 })], 0);
    const scattered = op.ScatterND(zeros, op.Unsqueeze(positive, [-1]), op.Reshape(moved, rowShape), { reduction: 'add' });
    return [op.Transpose(scattered, invertPermutation(toFront)), null];
  },
  GatherElements: ({ op, dy, x, node }) => {
    const zeros = op.ConstantOfShape(op.Shape(x(0)), 0, x(0).dtype);
    return [op.ScatterElements(zeros, x(1), dy, { axis: attrInt(node, 'axis', 0), reduction: 'add' }), null];
  },
} satisfies GradientRules;

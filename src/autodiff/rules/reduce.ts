// Gradient rules for reductions: broadcast dy back over the reduced axes.
import type { Value } from '../../ir/graph.ts';
import { attrInt } from '../../ir/graph.ts';
import type { GradientContext, GradientRules } from '../types.ts';
import { reductionAxes } from './helpers.ts';

/** dy with the reduced axes restored (size 1), expanded to the input's shape. */
function spread(ctx: GradientContext, value: Value): Value {
  const { op, node } = ctx;
  const kept = attrInt(node, 'keepdims', 1) === 1 ? value : op.Unsqueeze(value, reductionAxes(ctx));
  return op.Expand(kept, op.Shape(ctx.x(0)));
}

/** y with the reduced axes restored, for comparing against x. */
function keptOutput(ctx: GradientContext): Value {
  return attrInt(ctx.node, 'keepdims', 1) === 1 ? ctx.y(0) : ctx.op.Unsqueeze(ctx.y(0), reductionAxes(ctx));
}

export const reduceGradients = {
  ReduceSum: (ctx) => [spread(ctx, ctx.dy), null],
  // Dividing by |y|/|x| (element counts) gives 1/n without knowing symbolic sizes at build time.
  ReduceMean: (ctx) => {
    const { op, x, y } = ctx;
    const ratio = op.Div(op.Cast(op.Size(y(0)), x(0).dtype), op.Cast(op.Size(x(0)), x(0).dtype));
    return [op.Mul(spread(ctx, ctx.dy), ratio), null];
  },
  ReduceSumSquare: (ctx) => [ctx.op.Mul(spread(ctx, ctx.dy), ctx.op.Mul(ctx.x(0), 2)), null],
  // Ties share the gradient equally, like PyTorch's amax/amin.
  ReduceMax: (ctx) => extremumGradient(ctx),
  ReduceMin: (ctx) => extremumGradient(ctx),
} satisfies GradientRules;

/** dy shared equally among the elements equal to the extremum. */
function extremumGradient(ctx: GradientContext): [Value, null] {
  const { op, x } = ctx;
  const hits = op.Cast(op.Equal(x(0), keptOutput(ctx)), x(0).dtype);
  const share = op.Div(hits, op.ReduceSum(hits, reductionAxes(ctx)));
  return [op.Mul(spread(ctx, ctx.dy), share), null];
}

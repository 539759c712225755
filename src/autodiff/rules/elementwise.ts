// Gradient rules for elementwise ops. Broadcast inputs get output-shaped gradients; the engine sums them down.
import type { Value } from '../../ir/graph.ts';
import type { GradientContext, GradientRules } from '../types.ts';
import { chain, linear } from './helpers.ts';

export const elementwiseGradients = {
  Identity: linear(({ dy }) => dy),
  Neg: linear(({ op, dy }) => op.Neg(dy)),
  Add: ({ dy }) => [dy, dy],
  Sub: ({ op, dy }) => [dy, op.Neg(dy)],
  Mul: ({ op, dy, x, needs }) => [needs(0) ? op.Mul(dy, x(1)) : null, needs(1) ? op.Mul(dy, x(0)) : null],
  // d(a/b) = dy/b, -dy·(a/b)/b
  Div: ({ op, dy, x, y, needs }) => [needs(0) ? op.Div(dy, x(1)) : null, needs(1) ? op.Neg(op.Div(op.Mul(dy, y(0)), x(1))) : null],
  // d(a^b) = dy·b·a^(b-1), dy·a^b·ln(a)
  Pow: ({ op, dy, x, y, needs }) => [
    needs(0) ? op.Mul(dy, op.Mul(op.Cast(x(1), x(0).dtype), op.Pow(x(0), op.Sub(op.Cast(x(1), x(0).dtype), 1)))) : null,
    needs(1) ? op.Mul(dy, op.Mul(y(0), op.Log(x(0)))) : null,
  ],
  Sum: ({ node, dy }) => node.inputs.map(() => dy),
  Sqrt: chain(({ op, y }) => op.Div(0.5, y(0))),
  Reciprocal: chain(({ op, y }) => op.Neg(op.Mul(y(0), y(0)))),
  Exp: chain(({ y }) => y(0)),
  Log: chain(({ op, x }) => op.Reciprocal(x(0))),
  Tanh: chain(({ op, y }) => op.Sub(1, op.Mul(y(0), y(0)))),
  // erf'(x) = 2/√π · exp(-x²)
  Erf: chain(({ op, x }) => op.Mul(2 / Math.sqrt(Math.PI), op.Exp(op.Neg(op.Mul(x(0), x(0)))))),
  Sigmoid: chain(({ op, y }) => op.Mul(y(0), op.Sub(1, y(0)))),
  Softplus: chain(({ op, x }) => op.Sigmoid(x(0))),
  Relu: linear(({ op, dy, x }) => op.Where(op.Greater(x(0), 0), dy, 0)),
  Abs: linear(({ op, dy, x }) => op.Where(op.Less(x(0), 0), op.Neg(dy), dy)),
  Max: (ctx) => routeToExtremum(ctx),
  Min: (ctx) => routeToExtremum(ctx),
  Where: ({ op, dy, x }) => [null, op.Where(x(0), dy, 0), op.Where(x(0), 0, dy)],
  Clip: (ctx) => clipGradients(ctx),
  // NOTE: Round has no rule on purpose. Its derivative is 0 wherever it exists, so a rule would quietly stop
  // training; fake quantization passes gradients around it (straight through) with a stop-gradient instead.
  Cast: linear(({ op, dy, x }) => op.Cast(dy, x(0).dtype)),
} satisfies GradientRules;

/**
 * Clip: dy goes to x inside [min, max], bounds included (PyTorch's clamp does the same), to min below it and to max
 * above it. The straight-through estimator of fake quantization (compress/quantize/fake-quant.ts) is built on this.
 */
function clipGradients({ op, dy, x, node, needs }: GradientContext): (Value | null)[] {
  const [, min, max] = node.inputs;
  const below = min ? op.Less(x(0), min) : null;
  const above = max ? op.Greater(x(0), max) : null;
  const outside = below && above ? op.Or(below, above) : (below ?? above);
  return [
    needs(0) ? (outside ? op.Where(outside, 0, dy) : dy) : null,
    below && needs(1) ? op.Where(below, dy, 0) : null,
    above && needs(2) ? op.Where(above, dy, 0) : null,
  ];
}

/**
 * Max/Min of any number of inputs: dy goes to the input that equals the result, the first one on ties (PyTorch's
 * maximum splits ties instead; first-wins keeps the gradient's total equal to dy).
 */
function routeToExtremum({ op, dy, node, y }: GradientContext): Value[] {
  let taken: Value | null = null;
  return node.inputs.map((x) => {
    const hit = op.Equal(x as Value, y(0));
    const mine = taken ? op.And(hit, op.Not(taken)) : hit;
    taken = taken ? op.Or(taken, hit) : hit;
    return op.Where(mine, dy, 0);
  });
}

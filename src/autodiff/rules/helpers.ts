// Small builders shared by gradient rules.
import type { Value } from '../../ir/graph.ts';
import type { GradientContext, GradientRule } from '../types.ts';

/** For ops that are linear in input 0 with a gradient map `f` (Identity, Neg, Reshape…); other inputs get none. */
export const linear = (f: (ctx: GradientContext) => Value): GradientRule => (ctx) => [f(ctx)];

/** dy · f'(x) for unary ops, with f' built from the context. */
export const chain = (derivative: (ctx: GradientContext) => Value): GradientRule => (ctx) => [ctx.op.Mul(ctx.dy, derivative(ctx))];

/** Reshape `dy` back to the shape of input 0: the gradient of every pure reshape. */
export const reshapeBack: GradientRule = (ctx) => [ctx.op.Reshape(ctx.dy, ctx.op.Shape(ctx.x(0)))];

/** A permutation's inverse. */
export function invertPermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => { inverse[p] = i; });
  return inverse;
}

/** Normalized axes of a reduction node: the constant input 1, or every axis. */
export function reductionAxes(ctx: GradientContext): number[] {
  const rank = ctx.x(0).shape.length;
  const given = ctx.node.inputs[1]?.contents;
  if (!given || given.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return given.map((a) => {
    if (typeof a !== 'number') throw new Error(`${ctx.node.name}: reduction axes must be constants`);
    return a < 0 ? a + rank : a;
  });
}

// Masks over attention heads and FFN neurons, as parameters of an importance graph: with every mask at 1 the
// model computes what it computes without them, and ∂L/∂mask is the importance of Michel et al. (2019, "Are
// Sixteen Heads Really Better than One?"): how much the loss would change, to first order, if the unit were
// removed. A mask at 0 removes the unit's contribution exactly, as cutting it out would (compress/prune/cut.ts).
// Built from Reshape and a broadcasting Mul, whose gradient rules already exist; test/autodiff/cases/masks.ts
// checks the pair against finite differences like every other rule.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';

/** Parameter names, below `encoder.layer.<i>.`, and the full names per layer. */
export const HEAD_MASK = 'attention.self.head_mask';
export const NEURON_MASK = 'intermediate.neuron_mask';
export const headMaskName = (layer: number): string => `encoder.layer.${layer}.${HEAD_MASK}`;
export const neuronMaskName = (layer: number): string => `encoder.layer.${layer}.${NEURON_MASK}`;
export const isUnitMask = (name: string): boolean => name.endsWith(`.${HEAD_MASK}`) || name.endsWith(`.${NEURON_MASK}`);

/** Scales each head's context: perHead [batch, heads, seq, headDim] by mask [heads]. */
export function maskHeads(g: GraphBuilder, perHead: Value, mask: Value): Value {
  return g.op.Mul(perHead, g.op.Reshape(mask, [-1, 1, 1]));
}

/** Scales each neuron's activation: x [rows, neurons] by mask [neurons]. */
export function maskNeurons(g: GraphBuilder, x: Value, mask: Value): Value {
  return g.op.Mul(x, mask);
}

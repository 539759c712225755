// Gradient checks for the head and neuron masks of importance graphs (src/models/unit-masks.ts): ∂L/∂mask is the
// importance score, so its gradient must be right for masks at 1 (the importance of every unit), at 0 (a unit
// already pruned) and in between.
import { maskHeads, maskNeurons } from '../../../src/models/unit-masks.ts';
import { type GradCase, gradCase, uniform } from '../gradcheck.ts';

const ones = (n: number): number[] => Array.from({ length: n }, () => 1);

export const maskCases: readonly GradCase[] = [
  gradCase({
    name: 'head mask at 1 over [2 batch, 3 heads, 4 seq, 5 headDim]',
    ops: ['Mul', 'Reshape'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4, 5] }, mask: { shape: [3], values: ones(3) } },
    build: (g, { x, mask }) => maskHeads(g, x, mask),
  }),
  gradCase({
    name: 'head mask with a pruned head (0) and a partial one',
    ops: ['Mul', 'Reshape'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4, 5] }, mask: { shape: [3], values: [1, 0, 0.5] } },
    build: (g, { x, mask }) => maskHeads(g, x, mask),
  }),
  gradCase({
    name: 'neuron mask over [6 rows, 7 neurons]',
    ops: ['Mul'],
    dtype: 'float64',
    inputs: { x: { shape: [6, 7] }, mask: { shape: [7], gen: uniform(0, 1) } },
    build: (g, { x, mask }) => maskNeurons(g, x, mask),
  }),
  gradCase({
    name: 'neuron mask (float32, as models run)',
    ops: ['Mul'],
    dtype: 'float32',
    inputs: { x: { shape: [6, 7] }, mask: { shape: [7], values: ones(7) } },
    build: (g, { x, mask }) => maskNeurons(g, x, mask),
  }),
];

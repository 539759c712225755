// Gradient-check cases for ONNX Runtime's com.microsoft contrib ops.
import { type GradCase, gradCase, uniform } from '../gradcheck.ts';

export const microsoftCases: GradCase[] = [
  gradCase({
    name: 'Gelu on [2,3,4]',
    ops: ['com.microsoft::Gelu'],
    // float32: the rule's derivative uses Erf, which has no double kernel in ONNX Runtime's CPU provider.
    dtype: 'float32',
    inputs: { x: { shape: [2, 3, 4], gen: uniform(-3, 3) } },
    build: (g, { x }) => g.op.Gelu(x),
  }),
];

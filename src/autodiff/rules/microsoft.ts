// Gradient rules for ONNX Runtime's com.microsoft contrib ops.
import type { GradientRules } from '../types.ts';
import { chain } from './helpers.ts';

export const microsoftGradients = {
  // NOTE: a dedicated rule because Gelu is one fused kernel; the derivative Φ(x) + x·φ(x) is rebuilt from x alone.
  Gelu: chain(({ op, x }) => {
    const cdf = op.Mul(op.Add(op.Erf(op.Div(x(0), Math.SQRT2)), 1), 0.5);
    const pdf = op.Mul(op.Exp(op.Mul(op.Mul(x(0), x(0)), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return op.Add(cdf, op.Mul(x(0), pdf));
  }),
} satisfies GradientRules;

// Gradient rules for softmax, layer normalization and dropout.
import { attrInt } from '../../ir/graph.ts';
import { AutodiffError, type GradientRules } from '../types.ts';

export const nnGradients = {
  // dx = y ⊙ (dy − Σ dy⊙y)
  Softmax: ({ op, dy, y, node }) => {
    const axis = attrInt(node, 'axis', -1);
    return [op.Mul(y(0), op.Sub(dy, op.ReduceSum(op.Mul(dy, y(0)), [axis])))];
  },
  // dx = dy − softmax(x) ⊙ Σ dy
  LogSoftmax: ({ op, dy, y, node }) => {
    const axis = attrInt(node, 'axis', -1);
    return [op.Sub(dy, op.Mul(op.Exp(y(0)), op.ReduceSum(dy, [axis])))];
  },
  // With x̂ = (x − μ)·σ⁻¹ and g = dy⊙γ: dx = σ⁻¹·(g − mean(g) − x̂·mean(g⊙x̂)), dγ = dy⊙x̂, dβ = dy.
  // Mean and InvStdDev are the node's own outputs 1 and 2, so nothing is recomputed.
  LayerNormalization: ({ op, dys, dy, x, y, node, needs }) => {
    if (dys[1] || dys[2]) {
      throw new AutodiffError(node.name, node.opType, 'gradients through the Mean or InvStdDev outputs are not supported');
    }
    const rank = x(0).shape.length;
    const axis = attrInt(node, 'axis', -1);
    const start = axis < 0 ? axis + rank : axis;
    const axes = Array.from({ length: rank - start }, (_, i) => start + i);
    // The statistics come in the stash type (float32 by default), whatever x's type.
    const stat = (i: number) => (y(i).dtype === x(0).dtype ? y(i) : op.Cast(y(i), x(0).dtype));
    const invStd = stat(2);
    const xhat = op.Mul(op.Sub(x(0), stat(1)), invStd);
    let dx = null;
    if (needs(0)) {
      const gx = op.Mul(dy, x(1));
      const centered = op.Sub(gx, op.ReduceMean(gx, axes));
      dx = op.Mul(invStd, op.Sub(centered, op.Mul(xhat, op.ReduceMean(op.Mul(gx, xhat), axes))));
    }
    return [dx, needs(1) ? op.Mul(dy, xhat) : null, needs(2) ? dy : null];
  },
  // Training-mode dropout scales kept units by 1/(1 − ratio); the mask (output 1) says which were kept.
  Dropout: ({ op, dy, x, y }) => {
    const keep = op.Sub(1, op.Cast(x(1), x(0).dtype));
    return [op.Div(op.Mul(dy, op.Cast(y(1), x(0).dtype)), keep), null, null];
  },
} satisfies GradientRules;

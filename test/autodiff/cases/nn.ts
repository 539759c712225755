// Gradient-check cases for Softmax, LogSoftmax and LayerNormalization, and the exact mask check for Dropout.
import { expect } from 'vitest';
import { backward } from '../../../src/autodiff/index.ts';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { tensorFromNumbers } from '../../../src/ir/tensor.ts';
import { Session } from '../../../src/runtime/session.ts';
import { type ExactCheck, type GradCase, gradCase, mulberry32, nth, numbers, positive, seedOf, uniform } from '../gradcheck.ts';

function softmax(op: 'Softmax' | 'LogSoftmax', axis: number): GradCase {
  return gradCase({
    name: `${op} axis ${axis} of [2,3,4]`,
    ops: [op],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4], gen: uniform(-2, 2) } },
    build: (g, { x }) => g.op[op](x, { axis }),
  });
}

/**
 * LayerNormalization of x [2,3,4] over the axes from `axis` on; Scale and B have those axes' shape.
 * float32 here: ONNX Runtime has no kernel for stash_type double, so double inputs get float32 statistics (the
 * float64 case below checks that the rule casts them back).
 */
function layerNorm(axis: -1 | -2 | 0, withBias: boolean): GradCase {
  const normalized = [2, 3, 4].slice(axis < 0 ? 3 + axis : axis);
  const name = `LayerNormalization axis ${axis} (normalizing [${normalized.join(',')}])${withBias ? '' : ' without B'}`;
  const x = { shape: [2, 3, 4], gen: uniform(-2, 2) };
  const scale = { shape: normalized, gen: positive };
  if (!withBias) {
    return gradCase({ name, ops: ['LayerNormalization'], dtype: 'float32', inputs: { x, scale }, build: (g, i) => nth(g.op.LayerNormalization(i.x, i.scale, null, { axis }), 0) });
  }
  return gradCase({
    name,
    ops: ['LayerNormalization'],
    dtype: 'float32',
    inputs: { x, scale, bias: { shape: normalized } },
    build: (g, i) => nth(g.op.LayerNormalization(i.x, i.scale, i.bias, { axis }), 0),
  });
}

export const nnCases: GradCase[] = [
  softmax('Softmax', -1),
  softmax('Softmax', 1),
  softmax('LogSoftmax', -1),
  softmax('LogSoftmax', 0),
  layerNorm(-1, true),
  layerNorm(-2, true),
  layerNorm(-1, false),
  layerNorm(0, true),
  gradCase({
    name: 'LayerNormalization float64 with the default stash_type',
    ops: ['LayerNormalization'],
    dtype: 'float64',
    inputs: { x: { shape: [2, 3, 4] }, scale: { shape: [4], gen: positive }, bias: { shape: [4] } },
    build: (g, { x, scale, bias }) => nth(g.op.LayerNormalization(x, scale, bias), 0),
  }),
];

/**
 * The mask is drawn afresh on every run, so finite differences do not apply. With loss = Σ y⊙u the gradient must
 * be exactly u·mask/(1 − ratio), computed here in the same order as the rule (float64, so bit for bit).
 */
async function dropoutMask(): Promise<void> {
  const ratio = 0.25;
  const shape = [4, 16];
  const size = 64;
  const rng = mulberry32(seedOf('Dropout'));
  const g = new GraphBuilder('dropout_check');
  const x = g.input('x', 'float64', shape);
  const u = g.input('u', 'float64', shape);
  const dropout = g.op.Dropout(x, ratio);
  const y = nth(dropout, 0);
  const mask = nth(dropout, 1);
  const loss = g.op.ReduceSum(g.op.Mul(y, u), undefined, { keepdims: false });
  const grad = backward(g, loss, [x], { dense: true }).gradients.get('x');
  if (grad?.kind !== 'dense') throw new Error('Dropout: expected a dense gradient for x');
  g.output('y', y);
  g.output('mask', g.op.Cast(mask, 'float64'));
  g.output('grad', grad.value);
  const session = await Session.create(g.build(), { threads: 1 });
  const xValues = uniform(-1, 1)(rng, size);
  const uValues = uniform(-1, 1)(rng, size);
  const out = await session.run({ x: tensorFromNumbers('float64', shape, xValues), u: tensorFromNumbers('float64', shape, uValues) });
  await session.release();
  const maskValues = numbers(out.mask, 'mask');
  const kept = maskValues.filter((m) => m === 1).length;
  // 64 draws at keep probability 0.75: all kept or all dropped would mean the mask is not random at all.
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(size);
  // The mask the rule reads is the one the forward pass applied (true = kept).
  numbers(out.y, 'y').forEach((yi, i) => expect(yi).toBeCloseTo(((xValues[i] as number) * (maskValues[i] as number)) / (1 - ratio), 12));
  expect(numbers(out.grad, 'grad')).toEqual(uValues.map((ui, i) => (ui * (maskValues[i] as number)) / (1 - ratio)));
}

export const nnExactChecks: ExactCheck[] = [{ name: 'Dropout: grad = u·mask/(1 − ratio) exactly', ops: ['Dropout'], run: dropoutMask }];

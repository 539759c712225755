// Exact checks of fake quantization's gradients (src/compress/quantize/fake-quant.ts). Finite differences cannot
// check them: y = round(x/s)·s is a staircase, so L(x ± εv) differ by 0 or by a whole step, and the
// straight-through estimator is by design not the derivative of the staircase (it is that of clip(x/s)·s). What is
// checked instead is that the backward graph computes the estimator's formulas exactly:
//   dL/dx = u where |x/s| ≤ 127, else 0;   dL/ds = Σ u·(round(x/s) − x/s) inside, u·(±127) outside   (LSQ)
// for L = Σ y⊙u. Scales are powers of two, so x/s and u·s/s are exact in binary floating point and the x
// gradient can be compared bit for bit; the s gradient is a sum, compared to 1e-12.
import { expect } from 'vitest';
import { backward } from '../../../src/autodiff/index.ts';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { fakeQuantize, lsqStep } from '../../../src/compress/quantize/fake-quant.ts';
import type { Value } from '../../../src/ir/graph.ts';
import { tensorFromNumbers } from '../../../src/ir/tensor.ts';
import { type ExactCheck, mulberry32, numbers, runGraph, seedOf, uniform } from '../gradcheck.ts';

/** Round half to even, as ONNX's Round. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Setup {
  readonly name: string;
  readonly shape: readonly number[];
  /** The scales: one, or one per index of `axis`. */
  readonly scales: readonly number[];
  readonly axis?: number;
  /** Quantize with lsqStep (gradient scaled by 1/√(N·127)) instead of the scale itself. */
  readonly lsq?: boolean;
}

/** The scale of element i of a tensor of `shape` under the setup. */
function scaleAt(setup: Setup, i: number): number {
  if (setup.axis === undefined) return setup.scales[0] as number;
  const inner = setup.shape.slice(setup.axis + 1).reduce((a, b) => a * b, 1);
  return setup.scales[Math.floor(i / inner) % (setup.shape[setup.axis] as number)] as number;
}

async function checkFakeQuant(setup: Setup): Promise<void> {
  const size = setup.shape.reduce((a, b) => a * b, 1);
  const rng = mulberry32(seedOf(setup.name));
  // Every third element outside the range (|x/s| in [128, 190)), the others inside, of either sign.
  const ratios = Array.from({ length: size }, (_, i) => (rng() < 0.5 ? -1 : 1) * (i % 3 === 1 ? 128 + 62 * rng() : 127 * rng()));
  const x = ratios.map((r, i) => r * scaleAt(setup, i));
  x[0] = 127 * scaleAt(setup, 0); // exactly at the bound: inside, by the convention of Clip's rule
  const u = uniform(-1, 1)(rng, size);

  const g = new GraphBuilder('fake_quant_check');
  const xv = g.input('x', 'float64', setup.shape);
  const sv = g.input('s', 'float64', setup.axis === undefined ? [] : [setup.scales.length]);
  const uv = g.input('u', 'float64', setup.shape);
  const scale = setup.lsq ? lsqStep(g, sv, xv) : sv;
  const y = fakeQuantize(g, xv, scale, setup.axis === undefined ? {} : { axis: setup.axis });
  const loss = g.op.ReduceSum(g.op.Mul(y, uv), undefined, { keepdims: false });
  const { gradients } = backward(g, loss, [xv, sv], { dense: true });
  const grad = (v: Value): Value => {
    const gv = gradients.get(v.name);
    if (gv?.kind !== 'dense') throw new Error(`no dense gradient for ${v.name}`);
    return gv.value;
  };
  g.output('y', y);
  g.output('dx', grad(xv));
  g.output('ds', grad(sv));
  const out = await runGraph(g.build(), {
    x: tensorFromNumbers('float64', setup.shape, x),
    s: tensorFromNumbers('float64', setup.axis === undefined ? [] : [setup.scales.length], setup.scales),
    u: tensorFromNumbers('float64', setup.shape, u),
  });

  const expectedY: number[] = [];
  const expectedDx: number[] = [];
  const expectedDs = setup.scales.map(() => 0);
  x.forEach((xi, i) => {
    const s = scaleAt(setup, i);
    const ratio = xi / s;
    const inside = Math.abs(ratio) <= 127;
    const code = Math.max(-127, Math.min(127, roundHalfEven(ratio)));
    expectedY.push(code * s + 0); // the graph's codes + 0 turn a code of −0 into +0
    expectedDx.push(inside ? (u[i] as number) : 0);
    const channel = setup.axis === undefined ? 0 : setup.scales.indexOf(s);
    expectedDs[channel] = (expectedDs[channel] as number) + (u[i] as number) * (inside ? code - ratio : Math.sign(ratio) * 127);
  });
  const factor = setup.lsq ? 1 / Math.sqrt(size * 127) : 1;

  expect(numbers(out.y, 'y')).toEqual(expectedY);
  expect(numbers(out.dx, 'dx')).toEqual(expectedDx);
  expect(expectedDx.filter((d) => d === 0).length, 'elements outside the range').toBe(Math.floor((size + 1) / 3));
  numbers(out.ds, 'ds').forEach((d, c) => expect(Math.abs(d - (expectedDs[c] as number) * factor)).toBeLessThan(1e-12 * (1 + Math.abs(d))));
}

/** Clip at its bounds: x equal to min or max keeps dy (inside, bounds included); the bound gets nothing. */
async function clipAtBounds(): Promise<void> {
  const g = new GraphBuilder('clip_bounds');
  const x = g.input('x', 'float64', [5]);
  const min = g.input('min', 'float64', []);
  const max = g.input('max', 'float64', []);
  const loss = g.op.ReduceSum(g.op.Clip(x, min, max), undefined, { keepdims: false });
  const { gradients } = backward(g, loss, [x, min, max], { dense: true });
  for (const v of [x, min, max]) {
    const gv = gradients.get(v.name);
    if (gv?.kind !== 'dense') throw new Error(`no dense gradient for ${v.name}`);
    g.output(`d${v.name}`, gv.value);
  }
  const out = await runGraph(g.build(), {
    x: tensorFromNumbers('float64', [5], [-2, -1, 0, 1, 2]),
    min: tensorFromNumbers('float64', [], [-1]),
    max: tensorFromNumbers('float64', [], [1]),
  });
  expect(numbers(out.dx, 'dx')).toEqual([0, 1, 1, 1, 0]);
  expect(numbers(out.dmin, 'dmin')).toEqual([1]);
  expect(numbers(out.dmax, 'dmax')).toEqual([1]);
}

const FAKE_QUANT_OPS = ['Clip', 'Div', 'Mul', 'Add', 'Sub'];

export const quantizeExactChecks: ExactCheck[] = [
  { name: 'Clip: x at a bound keeps its gradient', ops: ['Clip'], run: clipAtBounds },
  {
    name: 'fake quantization per tensor: straight-through dL/dx, LSQ dL/ds',
    ops: FAKE_QUANT_OPS,
    run: () => checkFakeQuant({ name: 'per tensor', shape: [4, 8], scales: [2 ** -7] }),
  },
  {
    name: 'fake quantization per channel along axis 0 ([out, in] weights)',
    ops: FAKE_QUANT_OPS,
    run: () => checkFakeQuant({ name: 'axis 0', shape: [3, 6], scales: [2 ** -7, 2 ** -4, 2 ** -10], axis: 0 }),
  },
  {
    name: 'fake quantization per channel along axis 1 ([in, out] weights)',
    ops: FAKE_QUANT_OPS,
    run: () => checkFakeQuant({ name: 'axis 1', shape: [6, 3], scales: [2 ** -7, 2 ** -4, 2 ** -10], axis: 1 }),
  },
  {
    name: 'fake quantization with an LSQ step: dL/ds scaled by 1/√(N·127), forward unchanged',
    ops: [...FAKE_QUANT_OPS, 'Cast'],
    run: () => checkFakeQuant({ name: 'lsq', shape: [4, 8], scales: [2 ** -6], lsq: true }),
  },
];

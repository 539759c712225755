// Gradient-check cases for elementwise ops, with broadcasting ([2,3,4] against [4], [3,1] and scalars).
import { awayFromZero, type GradCase, gradCase, type Gen, positive, uniform } from '../gradcheck.ts';

const s234 = { shape: [2, 3, 4] } as const;

/** Inputs of Max/Min: `a` is ±[0.5, 1), `b` is in [-0.3, 0.3): never within 0.2 of each other, both win somewhere. */
const wide: Gen = (rng, size) => awayFromZero(rng, size).map((v) => Math.sign(v) * (0.5 + Math.abs(v) / 2));
const narrow: Gen = uniform(-0.3, 0.3);
/** ±[0.05, 0.45) or ±[0.55, 0.95): inside and outside Clip's bounds ±0.5, never within 0.05 of them. */
const offBounds: Gen = (rng, size) => Array.from({ length: size }, () => (rng() < 0.5 ? -1 : 1) * ((rng() < 0.5 ? 0.05 : 0.55) + 0.4 * rng()));


/** The same binary op over the broadcasting shapes every binary rule must un-broadcast. */
function broadcasting(op: 'Add' | 'Sub' | 'Mul' | 'Div', b: Gen | undefined): GradCase[] {
  const shapes: [string, readonly number[], readonly number[]][] = [
    ['same shape', [2, 3], [2, 3]],
    ['[2,3,4] with [4]', [2, 3, 4], [4]],
    ['[2,3,4] with [3,1]', [2, 3, 4], [3, 1]],
    ['[2,3,4] with a scalar', [2, 3, 4], []],
    ['[4] with [2,3,4]', [4], [2, 3, 4]],
  ];
  return shapes.map(([label, sa, sb]) =>
    gradCase({
      name: `${op} ${label}`,
      ops: [op],
      dtype: 'float64',
      inputs: { a: { shape: sa }, b: { shape: sb, ...(b ? { gen: b } : {}) } },
      build: (g, { a, b }) => g.op[op](a, b),
    }),
  );
}

/** y = f(x) for a unary op on [2,3,4]. */
function unary(op: 'Identity' | 'Neg' | 'Sqrt' | 'Reciprocal' | 'Exp' | 'Log' | 'Tanh' | 'Erf' | 'Sigmoid' | 'Softplus' | 'Relu' | 'Abs', gen?: Gen, dtype: 'float64' | 'float32' = 'float64'): GradCase {
  return gradCase({
    name: dtype === 'float64' ? op : `${op} (${dtype})`,
    ops: [op],
    dtype,
    inputs: { x: { ...s234, ...(gen ? { gen } : {}) } },
    build: (g, { x }) => g.op[op](x),
  });
}

export const elementwiseCases: GradCase[] = [
  unary('Identity'),
  unary('Neg'),
  unary('Sqrt', positive),
  unary('Reciprocal', awayFromZero),
  unary('Exp'),
  unary('Log', positive),
  unary('Tanh'),
  // ONNX Runtime's CPU provider has no double Erf kernel.
  unary('Erf', undefined, 'float32'),
  unary('Sigmoid'),
  unary('Softplus'),
  unary('Relu', awayFromZero),
  unary('Abs', awayFromZero),
  ...broadcasting('Add', undefined),
  ...broadcasting('Sub', undefined),
  ...broadcasting('Mul', undefined),
  ...broadcasting('Div', awayFromZero),
  gradCase({
    name: 'Add [batch,seq,2] with [seq,2] (symbolic dims: un-broadcast reshapes to Shape(b))',
    ops: ['Add'],
    dtype: 'float64',
    inputs: { a: { shape: [2, 3, 2], dims: ['batch', 'seq', 2] }, b: { shape: [3, 2], dims: ['seq', 2] } },
    outputShape: [2, 3, 2],
    build: (g, { a, b }) => g.op.Add(a, b),
  }),
  gradCase({
    name: 'Mul of a value by itself (two contributions from one node)',
    ops: ['Mul'],
    dtype: 'float64',
    inputs: { x: s234 },
    build: (g, { x }) => g.op.Mul(x, x),
  }),
  gradCase({
    name: 'Pow base gradient, constant exponent 3, negative bases',
    ops: ['Pow'],
    dtype: 'float64',
    inputs: { x: s234 },
    build: (g, { x }) => g.op.Pow(x, 3),
  }),
  gradCase({
    name: 'Pow base gradient, int64 exponent input',
    ops: ['Pow'],
    dtype: 'float64',
    inputs: { x: s234, p: { shape: [4], dtype: 'int64', values: [0, 1, 2, 3] } },
    build: (g, { x, p }) => g.op.Pow(x, p),
  }),
  gradCase({
    name: 'Pow base and exponent gradients, positive base, exponent [4]',
    ops: ['Pow'],
    dtype: 'float64',
    inputs: { a: { ...s234, gen: positive }, b: { shape: [4], gen: uniform(-2, 2) } },
    build: (g, { a, b }) => g.op.Pow(a, b),
  }),
  gradCase({
    name: 'Pow base [4] under exponent [2,3,4] (both un-broadcast)',
    ops: ['Pow'],
    dtype: 'float64',
    inputs: { a: { shape: [4], gen: positive }, b: { ...s234, gen: uniform(-2, 2) } },
    build: (g, { a, b }) => g.op.Pow(a, b),
  }),
  gradCase({
    name: 'Pow exponent gradient, scalar exponent',
    ops: ['Pow'],
    dtype: 'float64',
    inputs: { a: { shape: [3, 1], gen: positive }, b: { shape: [] } },
    build: (g, { a, b }) => g.op.Pow(a, b),
  }),
  gradCase({
    name: 'Sum of three broadcast inputs',
    ops: ['Sum'],
    dtype: 'float64',
    inputs: { a: s234, b: { shape: [4] }, c: { shape: [3, 1] } },
    build: (g, { a, b, c }) => g.op.Sum(a, b, c),
  }),
  gradCase({
    name: 'Max of two, [2,3,4] with [4]',
    ops: ['Max'],
    dtype: 'float64',
    inputs: { a: { ...s234, gen: wide }, b: { shape: [4], gen: narrow } },
    build: (g, { a, b }) => g.op.Max(a, b),
  }),
  gradCase({
    name: 'Min of two, [3,1] with [2,3,4]',
    ops: ['Min'],
    dtype: 'float64',
    inputs: { a: { shape: [3, 1], gen: narrow }, b: { ...s234, gen: wide } },
    build: (g, { a, b }) => g.op.Min(a, b),
  }),
  gradCase({
    name: 'Max of three',
    ops: ['Max'],
    dtype: 'float64',
    // c (in [1, 2)) beats a and b at every position, so all of dy belongs to c.
    inputs: { a: { ...s234, gen: wide }, b: { shape: [4], gen: narrow }, c: { shape: [2, 3, 4], gen: uniform(1, 2) } },
    build: (g, { a, b, c }) => g.op.Max(a, b, c),
  }),
  gradCase({
    name: 'Min of three',
    ops: ['Min'],
    dtype: 'float64',
    inputs: { a: { ...s234, gen: wide }, b: { shape: [4], gen: narrow }, c: { shape: [2, 3, 4], gen: uniform(-2, -1) } },
    build: (g, { a, b, c }) => g.op.Min(a, b, c),
  }),
  gradCase({
    name: 'Where with a broadcast condition [2,3,1], x [2,3,4], y [4]',
    ops: ['Where'],
    dtype: 'float64',
    inputs: { c: { shape: [2, 3, 1], dtype: 'bool', values: [1, 0, 1, 0, 0, 1] }, a: s234, b: { shape: [4] } },
    build: (g, { c, a, b }) => g.op.Where(c, a, b),
  }),
  gradCase({
    name: 'Clip with min and max inputs (x on both sides of each bound)',
    ops: ['Clip'],
    dtype: 'float64',
    inputs: { x: { ...s234, gen: offBounds }, min: { shape: [], values: [-0.5] }, max: { shape: [], values: [0.5] } },
    build: (g, { x, min, max }) => g.op.Clip(x, min, max),
  }),
  gradCase({
    name: 'Clip with constant bounds',
    ops: ['Clip'],
    dtype: 'float64',
    inputs: { x: { ...s234, gen: offBounds } },
    build: (g, { x }) => g.op.Clip(x, -0.5, 0.5),
  }),
  gradCase({
    name: 'Clip with min only (max omitted)',
    ops: ['Clip'],
    dtype: 'float64',
    inputs: { x: { ...s234, gen: offBounds }, min: { shape: [], values: [-0.5] } },
    build: (g, { x, min }) => g.node1('Clip', [x, min, null]),
  }),
  gradCase({
    name: 'Cast float64 → float32 → float64 round trip, times x',
    ops: ['Cast', 'Mul'],
    dtype: 'float64',
    // The float32 leg rounds L to ~1e-7 relative: float32 step and bounds.
    tolerance: { eps: 1e-2, atol: 1e-4, rtol: 1e-3 },
    inputs: { x: s234 },
    build: (g, { x }) => g.op.Mul(g.op.Cast(g.op.Cast(x, 'float32'), 'float64'), x),
  }),
];

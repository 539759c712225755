// Gradient checks in the style of JAX's check_vjp: <∇L, v> from the backward graph vs central differences of L = Σ y⊙u.
import { backward, type GradientValue } from '../../src/autodiff/index.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import { type DType, isFloat } from '../../src/ir/dtype.ts';
import type { Graph, Value } from '../../src/ir/graph.ts';
import { formatShape, isStatic, numElements, type Shape } from '../../src/ir/shape.ts';
import { type TensorData, tensorFromNumbers, tensorToNumbers } from '../../src/ir/tensor.ts';
import { type Feeds, type Results, Session } from '../../src/runtime/session.ts';

/** A seeded PRNG returning uniform numbers in [0, 1): mulberry32. */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, so each case draws its own reproducible stream whatever runs before it. */
export function seedOf(text: string, base = 0x5eed): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Makes the values of a whole tensor (some generators need to see all of it, e.g. to keep values distinct). */
export type Gen = (rng: Rng, size: number) => number[];

const each = (f: (rng: Rng) => number): Gen => (rng, size) => Array.from({ length: size }, () => f(rng));

export const uniform = (lo: number, hi: number): Gen => each((rng) => lo + (hi - lo) * rng());
/** For Log, Sqrt, Pow's base, divisors: [0.5, 2). */
export const positive: Gen = uniform(0.5, 2);
/** ±[0.2, 1): at least 0.2 from the kink of Relu, Abs and the pole of Reciprocal. */
export const awayFromZero: Gen = each((rng) => (rng() < 0.5 ? -1 : 1) * (0.2 + 0.8 * rng()));
/** Distinct values at least 0.1 apart, shuffled: ReduceMax has a unique winner per slice. */
export const distinct: Gen = (rng, size) => {
  const values = Array.from({ length: size }, (_, i) => (i - size / 2) * 0.1 + 0.01 * rng());
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [values[i], values[j]] = [values[j] as number, values[i] as number];
  }
  return values;
};

export interface InputSpec {
  /** The shape fed. */
  readonly shape: readonly number[];
  /** The shape the graph declares, when it has symbolic dims ('batch', 'seq'); default `shape`. */
  readonly dims?: Shape;
  /** Default: the case's dtype. Integer and bool inputs get no gradient and need `values`. */
  readonly dtype?: DType;
  readonly values?: readonly number[];
  /** Default: uniform in [-1, 1). */
  readonly gen?: Gen;
}

export interface Tolerance {
  /** Central-difference step along the direction v. */
  readonly eps: number;
  readonly atol: number;
  readonly rtol: number;
}

// float64: truncation error ~ε² and rounding ~1e-16·|L|/ε both stay far below 1e-8.
export const FLOAT64_TOLERANCE: Tolerance = { eps: 1e-6, atol: 1e-8, rtol: 1e-6 };
// float32: rounding ~6e-8·|L|/ε ≈ 1e-5 and truncation ~ε²·|f'''| ≈ 1e-4, well inside 1e-2 relative.
export const FLOAT32_TOLERANCE: Tolerance = { eps: 1e-2, atol: 1e-3, rtol: 1e-2 };

export interface KnownBug {
  readonly bug: string;
  readonly symptom: RegExp;
}

export interface GradCase<K extends string = string> {
  readonly name: string;
  /** The op types whose gradient rules this case exercises, `domain::Op` outside the ONNX domain (for the coverage test). */
  readonly ops: readonly string[];
  /** 'float64' wherever ONNX Runtime's CPU provider has double kernels for every op the case (and its backward) uses. */
  readonly dtype: 'float64' | 'float32';
  readonly inputs: Readonly<Record<K, InputSpec>>;
  build(g: GraphBuilder, x: Readonly<Record<K, Value>>): Value;
  /** The output's shape at run time, needed when the graph only knows it symbolically. */
  readonly outputShape?: readonly number[];
  /** Inputs whose gradient must come back as rows; the case then runs backward without `dense`. */
  readonly rows?: readonly NoInfer<K>[];
  /** Overrides of the dtype's tolerance, with the reason in a comment at the case. */
  readonly tolerance?: Partial<Tolerance>;
  /**
   * Set when the case exposes a bug in src: what is wrong, and the error the check fails with until it is fixed.
   * The test then asserts that failure, so it turns red (remove `known`) once src is fixed.
   */
  readonly known?: KnownBug;
}

/** Keeps the input names of one case checked against its build function, then erases them for the table. */
export function gradCase<K extends string>(c: GradCase<K>): GradCase {
  return c;
}

/** A check that does not fit finite differences (random masks): run by hand, but counted by the coverage test. */
export interface ExactCheck {
  readonly name: string;
  readonly ops: readonly string[];
  run(): Promise<void>;
}

export interface GradCheckResult {
  readonly analytic: number;
  readonly numeric: number;
  readonly tolerance: Tolerance;
  readonly seed: number;
  /** |analytic − numeric| ≤ atol + rtol·|numeric| */
  readonly ok: boolean;
  readonly message: string;
}

type Tensors = Record<string, TensorData>;

export function makeInputs(specs: Readonly<Record<string, InputSpec>>, dtype: DType, rng: Rng): Tensors {
  const out: Tensors = {};
  for (const [name, spec] of Object.entries(specs)) {
    const type = spec.dtype ?? dtype;
    const size = numElements(spec.shape);
    if (!isFloat(type) && !spec.values) throw new Error(`input ${name}: ${type} inputs need explicit values`);
    const values = spec.values ?? (spec.gen ?? uniform(-1, 1))(rng, size);
    out[name] = tensorFromNumbers(type, spec.shape, [...values]);
  }
  return out;
}

export function numbers(t: TensorData | undefined, what: string): number[] {
  if (!t) throw new Error(`no result for ${what}`);
  return tensorToNumbers(t);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`dot of lengths ${a.length} and ${b.length}`);
  return a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);
}

/** Sum rows into a dense table of `size` elements (the JS reference for ScatterND with reduction add). */
export function densifyRows(indices: readonly number[], values: readonly number[], size: number): number[] {
  const rowSize = indices.length === 0 ? 0 : values.length / indices.length;
  const dense = new Array<number>(size).fill(0);
  indices.forEach((row, n) => {
    for (let j = 0; j < rowSize; j++) dense[row * rowSize + j] = (dense[row * rowSize + j] as number) + (values[n * rowSize + j] as number);
  });
  return dense;
}

/** Builds the case's forward graph with its inputs, the cotangent input u and loss = Σ y⊙u (a scalar). */
export function forwardGraph(c: GradCase, g: GraphBuilder): { x: Record<string, Value>; y: Value; loss: Value } {
  const x: Record<string, Value> = {};
  for (const [name, spec] of Object.entries(c.inputs)) x[name] = g.input(name, spec.dtype ?? c.dtype, spec.dims ?? spec.shape);
  const y = c.build(g, x);
  if (!isStatic(y.shape) && !c.outputShape) throw new Error(`${c.name}: the output shape ${formatShape(y.shape)} is symbolic: give outputShape`);
  const u = g.input('u', y.dtype, y.shape);
  return { x, y, loss: g.op.ReduceSum(g.op.Mul(y, u), undefined, { keepdims: false }) };
}

/** One run of a graph in a fresh single-threaded session. */
export async function runGraph(graph: Graph, feeds: Feeds): Promise<Results> {
  const session = await Session.create(graph, { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

interface BackwardGraph {
  readonly graph: Graph;
  /** The float inputs, all differentiated. */
  readonly floats: readonly Value[];
  readonly gradients: ReadonlyMap<string, GradientValue>;
  readonly output: { readonly dtype: DType; readonly shape: readonly number[] };
}

/** The forward graph plus backward(loss, every float input), outputting each gradient (rows as indices and values). */
function backwardGraph(c: GradCase): BackwardGraph {
  const g = new GraphBuilder(`gradcheck_${c.name}`);
  const { x, y, loss } = forwardGraph(c, g);
  const floats = Object.values(x).filter((v) => isFloat(v.dtype));
  const { gradients, unreachable } = backward(g, loss, floats, { dense: (c.rows ?? []).length === 0 });
  if (unreachable.length > 0) throw new Error(`${c.name}: inputs ${unreachable.join(', ')} do not reach the output`);
  for (const name of c.rows ?? []) {
    const kind = gradients.get(name)?.kind;
    if (kind !== 'rows') throw new Error(`${c.name}: the gradient of ${name} is ${kind ?? 'missing'}, expected rows`);
  }
  for (const [name, grad] of gradients) {
    if (grad.kind === 'dense') g.output(`grad.${name}`, grad.value);
    else {
      g.output(`grad.${name}.indices`, grad.indices);
      g.output(`grad.${name}.values`, grad.values);
    }
  }
  return { graph: g.build(), floats, gradients, output: { dtype: y.dtype, shape: c.outputShape ?? (y.shape as readonly number[]) } };
}

/** Runs the backward graph; every gradient comes back dense (rows summed in JS) and shaped like its input. */
async function denseGradients(c: GradCase, b: BackwardGraph, feeds: Tensors): Promise<Map<string, number[]>> {
  const results = await runGraph(b.graph, feeds);
  const dense = new Map<string, number[]>();
  for (const v of b.floats) {
    const input = feeds[v.name] as TensorData;
    const grad = b.gradients.get(v.name);
    if (grad?.kind === 'rows') {
      const indices = numbers(results[`grad.${v.name}.indices`], 'indices');
      dense.set(v.name, densifyRows(indices, numbers(results[`grad.${v.name}.values`], 'values'), input.data.length));
      continue;
    }
    const t = results[`grad.${v.name}`];
    if (t && formatShape(t.shape) !== formatShape(input.shape)) {
      throw new Error(`${c.name}: the gradient of ${v.name} has shape ${formatShape(t.shape)}, the input ${formatShape(input.shape)}`);
    }
    dense.set(v.name, numbers(t, `grad.${v.name}`));
  }
  return dense;
}

/** L(x + εv) and L(x − εv), from a forward-only graph built the same way, in one session. */
async function lossesAlong(c: GradCase, feeds: Tensors, directions: ReadonlyMap<string, number[]>, eps: number): Promise<[number, number]> {
  const f = new GraphBuilder(`forward_${c.name}`);
  f.output('loss', forwardGraph(c, f).loss);
  const session = await Session.create(f.build(), { threads: 1 });
  const lossAt = async (step: number): Promise<number> => {
    const moved: Tensors = { ...feeds };
    for (const [name, direction] of directions) {
      const x = feeds[name] as TensorData;
      moved[name] = tensorFromNumbers(x.dtype, x.shape, numbers(x, name).map((xi, i) => xi + step * (direction[i] as number)));
    }
    return numbers((await session.run(moved)).loss, 'loss')[0] as number;
  };
  try {
    return [await lossAt(eps), await lossAt(-eps)];
  } finally {
    await session.release();
  }
}

/** analytic = Σ_i <∇_i L, v_i> against numeric = (L(x + εv) − L(x − εv)) / 2ε, for L = Σ y⊙u. */
export async function checkGradient(c: GradCase, baseSeed = 0x5eed): Promise<GradCheckResult> {
  const seed = seedOf(c.name, baseSeed);
  const rng = mulberry32(seed);
  const tolerance = { ...(c.dtype === 'float64' ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE), ...c.tolerance };
  const b = backwardGraph(c);
  const feeds = makeInputs(c.inputs, c.dtype, rng);
  feeds.u = tensorFromNumbers(b.output.dtype, b.output.shape, uniform(-1, 1)(rng, numElements(b.output.shape)));
  const directions = new Map(b.floats.map((v) => [v.name, uniform(-1, 1)(rng, (feeds[v.name] as TensorData).data.length)]));

  const gradients = await denseGradients(c, b, feeds);
  const analytic = b.floats.reduce((sum, v) => sum + dot(gradients.get(v.name) ?? [], directions.get(v.name) ?? []), 0);
  const [plus, minus] = await lossesAlong(c, feeds, directions, tolerance.eps);
  const numeric = (plus - minus) / (2 * tolerance.eps);

  const error = Math.abs(analytic - numeric);
  const bound = tolerance.atol + tolerance.rtol * Math.abs(numeric);
  const ok = Number.isFinite(analytic) && Number.isFinite(numeric) && error <= bound;
  const message = `${c.name} (seed ${seed}): analytic ${analytic}, numeric ${numeric}, |diff| ${error.toExponential(3)} vs bound ${bound.toExponential(3)} (eps ${tolerance.eps})`;
  return { analytic, numeric, tolerance, seed, ok, message };
}

/** Output i of a multi-output op (LayerNormalization, Dropout, Split), or a clear error. */
export function nth(values: readonly Value[], i: number): Value {
  const v = values[i];
  if (!v) throw new Error(`the op has ${values.length} outputs, asked for output ${i}`);
  return v;
}

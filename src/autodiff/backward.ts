// Reverse-mode autodiff over the graph IR: appends the backward pass to a GraphBuilder.
// The engine owns ordering, fan-out accumulation, un-broadcasting, integer inputs and stop-gradient;
// the rules (rules/*.ts) only say how one op's output gradients map to its input gradients.
import type { GraphBuilder } from '../builder/builder.ts';
import { isFloat } from '../ir/dtype.ts';
import type { Node, Value } from '../ir/graph.ts';
import { broadcastAxes, formatShape, isStatic } from '../ir/shape.ts';
import { tensorFromNumbers } from '../ir/tensor.ts';
import { gradientRules } from './rules/index.ts';
import { AutodiffError, type GradientContext, type RowGradient } from './types.ts';

/** A parameter's gradient in the backward graph. */
export type GradientValue =
  | { readonly kind: 'dense'; readonly value: Value }
  | { readonly kind: 'rows'; readonly indices: Value; readonly values: Value };

export interface BackwardResult {
  /** Gradient per value in `wrt`, by name. */
  readonly gradients: ReadonlyMap<string, GradientValue>;
  /** Values in `wrt` that the loss does not depend on (no gradient output). */
  readonly unreachable: readonly string[];
}

type Contribution = Value | RowGradient;

const isRows = (c: Contribution): c is RowGradient => 'kind' in c && c.kind === 'rows';

/**
 * Differentiate `loss` (a scalar) with respect to `wrt`, adding the backward nodes to `g`.
 * Gradients of values consumed only by Gather (embedding tables) stay as rows unless `dense` is set.
 */
export function backward(g: GraphBuilder, loss: Value, wrt: readonly Value[], options: { dense?: boolean } = {}): BackwardResult {
  if (loss.shape.length !== 0 && !(loss.shape.length === 1 && loss.shape[0] === 1)) {
    throw new AutodiffError(loss.name, 'loss', `the loss must be a scalar, got shape ${formatShape(loss.shape)}`);
  }
  const nodes = g.build().nodes;
  const targets = new Set(wrt.map((v) => v.name));
  const differentiable = forwardReachable(nodes, targets);
  const contributions = new Map<string, Contribution[]>();
  const seed = g.constant(tensorFromNumbers(loss.dtype, loss.shape.map(() => 1), [1]));
  contributions.set(loss.name, [seed]);

  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n] as Node;
    if (node.stopGradient) continue;
    if (!node.outputs.some((o) => contributions.has(o.name))) continue;
    const needs = (i: number): boolean => {
      const x = node.inputs[i];
      return !!x && isFloat(x.dtype) && differentiable.has(x.name);
    };
    if (!node.inputs.some((_, i) => needs(i))) continue;
    const dys = node.outputs.map((o) => (contributions.has(o.name) ? g.scope(`grad:${node.name}`, () => densify(g, o, contributions.get(o.name) ?? [])) : null));
    const rule = gradientRules[node.domain]?.[node.opType];
    if (!rule) {
      throw new AutodiffError(node.name, node.opType, `no gradient rule for ${node.domain || 'ai.onnx'}::${node.opType}`, 'add one in src/autodiff/rules/');
    }
    const ctx = context(g, node, dys, needs);
    const grads = g.scope(`grad:${node.name}`, () => rule(ctx));
    node.inputs.forEach((x, i) => {
      const grad = grads[i];
      if (!x || !grad || !needs(i)) return;
      const fitted = isRows(grad) ? grad : g.scope(`grad:${node.name}`, () => unbroadcast(g, node, grad, x));
      const list = contributions.get(x.name) ?? [];
      list.push(fitted);
      contributions.set(x.name, list);
    });
  }

  const gradients = new Map<string, GradientValue>();
  const unreachable: string[] = [];
  for (const v of wrt) {
    const list = contributions.get(v.name);
    if (!list) {
      unreachable.push(v.name);
      continue;
    }
    gradients.set(v.name, g.scope(`grad:${v.name}`, () => combine(g, v, list, options.dense ?? false)));
  }
  return { gradients, unreachable };
}

/** Names of float values that depend on any target. */
function forwardReachable(nodes: readonly Node[], targets: ReadonlySet<string>): Set<string> {
  const reached = new Set(targets);
  for (const node of nodes) {
    if (node.stopGradient) continue;
    if (node.inputs.some((x) => x && reached.has(x.name))) {
      for (const o of node.outputs) if (isFloat(o.dtype)) reached.add(o.name);
    }
  }
  return reached;
}

function context(g: GraphBuilder, node: Node, dys: readonly (Value | null)[], needs: (i: number) => boolean): GradientContext {
  return {
    g,
    op: g.op,
    node,
    x: (i) => node.inputs[i] ?? missing(node, `input ${i} is omitted`),
    y: (i) => node.outputs[i] ?? missing(node, `output ${i} does not exist`),
    get dy() {
      return dys[0] ?? missing(node, 'output 0 has no gradient');
    },
    dys,
    needs,
  };
}

function missing(node: Node, reason: string): never {
  throw new AutodiffError(node.name, node.opType, reason);
}

/** The sum of a value's gradient contributions, as one dense tensor. */
function densify(g: GraphBuilder, v: Value, list: readonly Contribution[]): Value {
  const parts = list.map((c) => (isRows(c) ? scatterRows(g, v, c) : c));
  if (parts.length === 1) return parts[0] as Value;
  if (parts.length === 2) return g.op.Add(parts[0] as Value, parts[1] as Value);
  return g.op.Sum(...parts);
}

/** A parameter's gradient: rows when every contribution is rows (and dense is not forced), else dense. */
function combine(g: GraphBuilder, v: Value, list: readonly Contribution[], dense: boolean): GradientValue {
  const rows = list.filter(isRows);
  if (dense || rows.length !== list.length) return { kind: 'dense', value: densify(g, v, list) };
  if (rows.length === 1) return { kind: 'rows', indices: (rows[0] as RowGradient).indices, values: (rows[0] as RowGradient).values };
  return {
    kind: 'rows',
    indices: g.op.Concat(rows.map((r) => r.indices), 0),
    values: g.op.Concat(rows.map((r) => r.values), 0),
  };
}

/** Rows to a dense tensor shaped like `v`, summing repeated indices. */
function scatterRows(g: GraphBuilder, v: Value, rows: RowGradient): Value {
  const zeros = g.op.ConstantOfShape(g.op.Shape(v), 0, v.dtype);
  return g.op.ScatterND(zeros, g.op.Unsqueeze(rows.indices, [-1]), rows.values, { reduction: 'add' });
}

/** Sum a gradient over the axes its input was broadcast along, and give it the input's shape. */
function unbroadcast(g: GraphBuilder, node: Node, grad: Value, x: Value): Value {
  if (grad.dtype !== x.dtype) {
    throw new AutodiffError(node.name, node.opType, `gradient for ${x.name} is ${grad.dtype}, the input is ${x.dtype}`);
  }
  if (grad.shape.length < x.shape.length) {
    throw new AutodiffError(node.name, node.opType, `gradient ${formatShape(grad.shape)} has lower rank than input ${x.name} ${formatShape(x.shape)}`);
  }
  const axes = broadcastAxes(x.shape, grad.shape);
  if (axes.length === 0 && grad.shape.length === x.shape.length) return grad;
  const lead = grad.shape.length - x.shape.length;
  // Only leading axes added (a bias over rows): one reduction without kept dims already has the input's shape.
  if (axes.every((a) => a < lead)) return g.op.ReduceSum(grad, axes, { keepdims: false });
  const reduced = g.op.ReduceSum(grad, axes, { keepdims: true });
  if (lead === 0) return reduced;
  return g.op.Reshape(reduced, isStatic(x.shape) ? x.shape : g.op.Shape(x));
}

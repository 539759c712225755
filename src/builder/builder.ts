// GraphBuilder: creates values and nodes with deterministic scoped names, infers shapes as it goes.
import type { DType } from '../ir/dtype.ts';
import type { Attributes, Graph, Node, Value } from '../ir/graph.ts';
import type { Shape } from '../ir/shape.ts';
import { type TensorData, tensorFromNumbers } from '../ir/tensor.ts';
import { XlmtError } from '../errors/index.ts';
import { GraphBuildError, ShapeInferenceError } from './errors.ts';
import { InferContext, ONNX_DOMAIN, shapeRules } from './infer/index.ts';
import { Ops } from './ops.ts';

export interface NodeOptions {
  readonly domain?: string;
  /** Explicit names for the outputs (graph outputs, readable gradients); by default `<node>:<i>`. */
  readonly outputNames?: readonly string[];
  readonly stopGradient?: true;
  /** An explicit node name, for passes that copy a graph and keep its names; by default `<scope>/<op>[_n]`. */
  readonly name?: string;
}

export const DEFAULT_OPSETS: Readonly<Record<string, number>> = { '': 18, 'com.microsoft': 1 };

export class GraphBuilder {
  readonly op: Ops;
  private readonly inputs: Value[] = [];
  private readonly params: Value[] = [];
  private readonly constants: Value[] = [];
  private readonly nodes: Node[] = [];
  private readonly outputs: Value[] = [];
  private readonly names = new Set<string>();
  /** Names a pass will give explicitly later (see reserve): generated names stay clear of them. */
  private readonly reserved = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constantCache = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private symbols = 0;

  constructor(readonly name: string, private readonly opsets: Readonly<Record<string, number>> = DEFAULT_OPSETS) {
    this.op = new Ops(this);
  }

  /** The current scope path, e.g. `encoder.layer.3.attention`. */
  get scopeName(): string {
    return this.scopes.join('.');
  }

  scope<T>(name: string, body: () => T): T {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const v: Value = { name: this.claim(name), dtype, shape, kind: 'input' };
    this.inputs.push(v);
    return v;
  }

  /** A trainable parameter named `<scope>.<name>`: the checkpoint key, the graph input and the store key at once. */
  param(name: string, shape: readonly number[], dtype: DType = 'float32'): Value {
    return this.paramNamed(this.scopeName ? `${this.scopeName}.${name}` : name, shape, dtype);
  }

  /** A parameter by its full name, whatever the current scope (passes that copy a graph). */
  paramNamed(fullName: string, shape: readonly number[], dtype: DType = 'float32'): Value {
    const v: Value = { name: this.claim(fullName), dtype, shape, kind: 'param' };
    this.params.push(v);
    return v;
  }

  /** A parameter declared earlier, by its full name (tied weights reuse one parameter in two places). */
  findParam(name: string): Value {
    const found = this.params.find((p) => p.name === name);
    if (!found) throw new XlmtError({ code: 'BAD_ARGUMENT', message: `graph ${this.name} has no such parameter`, where: { api: 'GraphBuilder.findParam', tensor: name } });
    return found;
  }

  /** A constant stored in the graph. Small constants with equal contents are shared. */
  constant(data: TensorData, name?: string): Value {
    const small = data.data.length <= 64;
    const key = small ? `${data.dtype}|${data.shape.join(',')}|${Array.from(data.data as ArrayLike<unknown>).join(',')}` : undefined;
    const cached = key === undefined ? undefined : this.constantCache.get(key);
    if (cached && name === undefined) return cached;
    const contents = data.shape.length === 1 && (data.dtype === 'int64' || data.dtype === 'int32')
      ? Array.from(data.data as ArrayLike<number | bigint>, Number)
      : undefined;
    const v: Value = {
      name: this.claim(name ?? this.freeName((n) => `const_${this.constants.length + n}`)),
      dtype: data.dtype,
      shape: data.shape,
      kind: 'constant',
      data,
      ...(contents ? { contents } : {}),
    };
    this.constants.push(v);
    if (key !== undefined && name === undefined) this.constantCache.set(key, v);
    return v;
  }

  /** A 1-D int64 constant: axes, shapes, slice bounds. */
  ints(values: readonly number[]): Value {
    return this.constant(tensorFromNumbers('int64', [values.length], values));
  }

  /** A 0-D constant of the given type. */
  scalar(value: number, dtype: DType): Value {
    return this.constant(tensorFromNumbers(dtype, [], [value]));
  }

  /** Add a node; its outputs' types and shapes are inferred, and a failure names the node, op and inputs. */
  node(opType: string, inputs: readonly (Value | null)[], attributes: Attributes = {}, options: NodeOptions = {}): readonly Value[] {
    const domain = options.domain ?? ONNX_DOMAIN;
    const nodeName = options.name ?? this.nextNodeName(opType);
    const rule = shapeRules[domain]?.[opType];
    if (!rule) {
      throw new GraphBuildError(nodeName, opType, `no shape-inference rule for ${domain || 'ai.onnx'}::${opType}; add one in src/builder/infer/`, inputs);
    }
    let types;
    try {
      types = rule(new InferContext(nodeName, opType, inputs, attributes, () => `${nodeName}:dim${this.symbols++}`));
    } catch (e) {
      if (e instanceof ShapeInferenceError) throw new GraphBuildError(nodeName, opType, e.problem, inputs, { cause: e });
      throw e;
    }
    const outputs: Value[] = [];
    const node: Node = {
      name: nodeName,
      opType,
      domain,
      inputs,
      outputs,
      attributes,
      ...(options.stopGradient ? { stopGradient: true as const } : {}),
    };
    types.forEach((t, index) => {
      const name = this.claim(options.outputNames?.[index] ?? (types.length === 1 ? nodeName : `${nodeName}:${index}`));
      outputs.push({ name, dtype: t.dtype, shape: t.shape, kind: 'node', producer: { node, index }, ...(t.contents ? { contents: t.contents } : {}) });
    });
    this.nodes.push(node);
    return outputs;
  }

  /** A node with exactly one output. */
  node1(opType: string, inputs: readonly (Value | null)[], attributes: Attributes = {}, options: NodeOptions = {}): Value {
    const outputs = this.node(opType, inputs, attributes, options);
    return outputs[0] as Value;
  }

  /** Identity that autodiff treats as a constant: no gradient flows back through it. */
  stopGradient(x: Value): Value {
    return this.node1('Identity', [x], {}, { stopGradient: true });
  }

  /** Expose a value as a graph output under a stable name. */
  output(name: string, value: Value): Value {
    const named = this.node1('Identity', [value], {}, { outputNames: [name] });
    this.outputs.push(named);
    return named;
  }

  /** Make a value a graph output under its own name (a pass copying a graph whose outputs are already named). */
  markOutput(value: Value): void {
    if (this.outputs.includes(value)) throw new XlmtError({ code: 'BAD_ARGUMENT', message: `already an output of graph ${this.name}`, where: { api: 'GraphBuilder.markOutput', node: value.name } });
    this.outputs.push(value);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * Keeps generated names (`<scope>/<op>_n`, `const_n`) clear of these, which a pass copying a graph will claim
   * explicitly later: a node the pass adds must not take the name of one it has yet to copy.
   */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.reserved.add(n);
  }

  build(): Graph {
    return {
      name: this.name,
      inputs: [...this.inputs],
      params: [...this.params],
      constants: [...this.constants],
      nodes: [...this.nodes],
      outputs: [...this.outputs],
      opsets: { ...this.opsets },
    };
  }

  private nextNodeName(opType: string): string {
    const prefix = this.scopeName ? `${this.scopeName}/` : '';
    const key = `${prefix}${opType}`;
    const taken = (name: string): boolean => this.taken(name) || this.taken(`${name}:0`);
    let n = this.counters.get(key) ?? 0;
    while (taken(n === 0 ? key : `${key}_${n}`)) n++;
    this.counters.set(key, n + 1);
    return n === 0 ? key : `${key}_${n}`;
  }

  /** The first of make(0), make(1), … that no value has and no pass has reserved. */
  private freeName(make: (n: number) => string): string {
    let n = 0;
    while (this.taken(make(n))) n++;
    return make(n);
  }

  private taken(name: string): boolean {
    return this.names.has(name) || this.reserved.has(name);
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new XlmtError({ code: 'BAD_ARGUMENT', message: `the name is already used in graph ${this.name}`, where: { api: 'GraphBuilder', node: name } });
    this.names.add(name);
    this.reserved.delete(name);
    return name;
  }
}

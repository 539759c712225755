// The graph IR: values, nodes and graphs as plain data. No runtime and no ONNX protobuf types here.
import type { DType } from './dtype.ts';
import type { Shape } from './shape.ts';
import type { TensorData } from './tensor.ts';

/** Attribute values carry their ONNX type: 1 as an int and 1.0 as a float are different attributes. */
export type Attribute =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'tensor'; readonly value: TensorData };

export type Attributes = Readonly<Record<string, Attribute>>;

/**
 * Where a value comes from: a graph input fed per run, a trainable parameter (also fed per run, named by its
 * checkpoint key), a constant stored in the graph, or the output of a node.
 */
export type ValueKind = 'input' | 'param' | 'constant' | 'node';

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly kind: ValueKind;
  /** The producing node and output index, for kind 'node'. */
  readonly producer?: { readonly node: Node; readonly index: number };
  /** The data, for kind 'constant'. */
  readonly data?: TensorData;
  /**
   * The symbolic contents of a 1-D int64 tensor when the builder can tell them (the output of Shape, or a
   * constant): lets Reshape(x, Shape(y)) and Expand(x, Shape(y)) infer their output shapes.
   */
  readonly contents?: readonly (number | string)[];
}

export interface Node {
  readonly name: string;
  readonly opType: string;
  /** '' for the default ONNX domain, 'com.microsoft' for ONNX Runtime's contrib ops. */
  readonly domain: string;
  /** null stands for an omitted optional input. */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attributes: Attributes;
  /** Set on Identity nodes made by stopGradient: autodiff passes no gradient through them. */
  readonly stopGradient?: true;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly params: readonly Value[];
  readonly constants: readonly Value[];
  /** In topological order: a node comes after the producers of all its inputs. */
  readonly nodes: readonly Node[];
  readonly outputs: readonly Value[];
  /** Opset versions by domain. */
  readonly opsets: Readonly<Record<string, number>>;
}

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (a === undefined) return fallback;
  if (a.type !== 'int') throw new Error(`node ${node.name} (${node.opType}): attribute ${name} is ${a.type}, expected int`);
  return a.value;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (a === undefined) return fallback;
  if (a.type !== 'float') throw new Error(`node ${node.name} (${node.opType}): attribute ${name} is ${a.type}, expected float`);
  return a.value;
}

export function attrInts(node: Node, name: string): readonly number[] | undefined {
  const a = node.attributes[name];
  if (a === undefined) return undefined;
  if (a.type !== 'ints') throw new Error(`node ${node.name} (${node.opType}): attribute ${name} is ${a.type}, expected ints`);
  return a.value;
}

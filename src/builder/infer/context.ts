// What a shape-inference rule sees of the node being built, with helpers for reading inputs and attributes.
import type { DType } from '../../ir/dtype.ts';
import type { Attributes, Value } from '../../ir/graph.ts';
import { type Dim, formatShape, normalizeAxis, type Shape } from '../../ir/shape.ts';
import { tensorToNumbers } from '../../ir/tensor.ts';
import { fail } from '../errors.ts';

export interface OutputType {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly contents?: readonly Dim[];
}

export type InferFn = (ctx: InferContext) => OutputType[];

/** Shape-inference rules keyed by op type, one table per op family. */
export type InferTable = Readonly<Record<string, InferFn>>;

export class InferContext {
  constructor(
    readonly nodeName: string,
    readonly opType: string,
    readonly inputs: readonly (Value | null)[],
    readonly attributes: Attributes,
    private readonly freshSymbol: () => string,
  ) {}

  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) fail(`input ${i} is required`);
    return v;
  }

  optionalInput(i: number): Value | undefined {
    return this.inputs[i] ?? undefined;
  }

  int(name: string, fallback: number): number {
    const a = this.attributes[name];
    if (a === undefined) return fallback;
    if (a.type !== 'int') fail(`attribute ${name} must be an int, got ${a.type}`);
    return a.value;
  }

  ints(name: string): readonly number[] | undefined {
    const a = this.attributes[name];
    if (a === undefined) return undefined;
    if (a.type !== 'ints') fail(`attribute ${name} must be ints, got ${a.type}`);
    return a.value;
  }

  /** A fresh symbol for a dimension the builder cannot express (a data-dependent size). */
  unknownDim(): string {
    return this.freshSymbol();
  }

  /** Resolve an axis against a rank, or fail naming it. */
  axis(axis: number, rank: number, what = 'axis'): number {
    const a = normalizeAxis(axis, rank);
    if (a === undefined) fail(`${what} ${axis} is out of range for rank ${rank}`);
    return a;
  }

  /** Contents of a 1-D integer input known at build time (a constant or the output of Shape), else undefined. */
  contents(i: number): readonly Dim[] | undefined {
    const v = this.inputs[i];
    if (!v) return undefined;
    if (v.contents) return v.contents;
    if (v.data) return tensorToNumbers(v.data);
    return undefined;
  }

  /** Contents that must be known numbers at build time (axes, split sizes, slice bounds). */
  constantInts(i: number, what: string): number[] {
    const c = this.contents(i);
    if (!c) fail(`${what} (input ${i}) must be a constant for shape inference`);
    if (!c.every((d): d is number => typeof d === 'number')) fail(`${what} (input ${i}) must be numbers, got ${formatShape(c)}`);
    return [...c];
  }

  sameDtype(indices: readonly number[]): DType {
    const first = this.input(indices[0] ?? 0).dtype;
    for (const i of indices) {
      const v = this.inputs[i];
      if (v && v.dtype !== first) fail(`inputs must share one element type: input ${indices[0]} is ${first}, input ${i} is ${v.dtype}`);
    }
    return first;
  }
}

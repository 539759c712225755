// What a gradient rule receives and returns.
import type { GraphBuilder } from '../builder/builder.ts';
import { XlmtError } from '../errors/index.ts';
import type { Ops } from '../builder/ops.ts';
import type { Node, Value } from '../ir/graph.ts';

/**
 * The gradient of a gathered table as the rows a batch used: `values` holds one row per entry of `indices`
 * (which may repeat). The engine keeps it sparse for parameters and scatters it into a dense tensor elsewhere.
 */
export interface RowGradient {
  readonly kind: 'rows';
  /** int64 [n] */
  readonly indices: Value;
  /** [n, ...rowShape] */
  readonly values: Value;
}

/** One gradient per input: a value shaped like the input (or like the output, for the engine to un-broadcast), rows, or null. */
export type InputGradient = Value | RowGradient | null;

export interface GradientContext {
  readonly g: GraphBuilder;
  readonly op: Ops;
  readonly node: Node;
  /** Input i; throws when the optional input is omitted. */
  x(i: number): Value;
  /** Output i. */
  y(i: number): Value;
  /** The gradient flowing into output 0 (throws when none does). */
  readonly dy: Value;
  /** The gradient flowing into each output, null where none does. */
  readonly dys: readonly (Value | null)[];
  /** Whether input i needs a gradient: rules skip work for inputs that do not. */
  needs(i: number): boolean;
}

export type GradientRule = (ctx: GradientContext) => readonly InputGradient[];

/** Gradient rules keyed by op type, one table per op family. */
export type GradientRules = Readonly<Record<string, GradientRule>>;

/** The backward graph cannot be built at `node`: AUTODIFF_FAILED with the op type as data. */
export class AutodiffError extends XlmtError {
  readonly node: string;
  readonly opType: string;

  constructor(node: string, opType: string, reason: string, hint?: string) {
    super({ code: 'AUTODIFF_FAILED', message: `${opType}: ${reason}`, where: { node }, ...(hint === undefined ? {} : { hint }), details: { opType } });
    this.name = 'AutodiffError';
    this.node = node;
    this.opType = opType;
  }
}

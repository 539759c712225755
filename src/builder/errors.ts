// Errors raised while building graphs: GRAPH_BUILD_FAILED naming the node, with its op and input shapes as data.
import { XlmtError, type ErrorData } from '../errors/index.ts';
import type { Value } from '../ir/graph.ts';
import { formatShape } from '../ir/shape.ts';

/** Thrown by shape-inference functions; the builder catches it and adds the node's name and inputs. */
export class ShapeInferenceError extends XlmtError {
  constructor(reason: string) {
    super({ code: 'GRAPH_BUILD_FAILED', message: reason });
    this.name = 'ShapeInferenceError';
  }
}

export class GraphBuildError extends XlmtError {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
  readonly inputs: readonly (Value | null)[];

  constructor(node: string, opType: string, reason: string, inputs: readonly (Value | null)[], options?: ErrorOptions) {
    super(graphBuildData(node, opType, reason, inputs), options);
    this.name = 'GraphBuildError';
    this.node = node;
    this.opType = opType;
    this.reason = reason;
    this.inputs = inputs;
  }
}

function graphBuildData(node: string, opType: string, reason: string, inputs: readonly (Value | null)[]): ErrorData {
  const described = inputs.map((v) => (v ? `${v.name} ${v.dtype} ${formatShape(v.shape)}` : '(omitted)'));
  return {
    code: 'GRAPH_BUILD_FAILED',
    message: `${opType}: ${reason}`,
    where: { node },
    received: `inputs ${described.join(', ') || 'none'}`,
    details: { opType, inputs: inputs.map((v) => (v ? { name: v.name, dtype: v.dtype, shape: [...v.shape] } : null)) },
  };
}

export function fail(reason: string): never {
  throw new ShapeInferenceError(reason);
}

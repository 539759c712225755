// Errors raised while building graphs: each names the node, its op and the shapes involved.
import type { Value } from '../ir/graph.ts';
import { formatShape } from '../ir/shape.ts';

/** Thrown by shape-inference functions; the builder adds the node's name and inputs. */
export class ShapeInferenceError extends Error {}

export class GraphBuildError extends Error {
  readonly code = 'GRAPH_BUILD';
  constructor(
    readonly node: string,
    readonly opType: string,
    readonly reason: string,
    readonly inputs: readonly (Value | null)[],
  ) {
    const described = inputs
      .map((v, i) => (v ? `  input ${i}: ${v.name} ${v.dtype} ${formatShape(v.shape)}` : `  input ${i}: (omitted)`))
      .join('\n');
    super(`${node} (${opType}): ${reason}\n${described}`);
    this.name = 'GraphBuildError';
  }
}

export function fail(reason: string): never {
  throw new ShapeInferenceError(reason);
}

// Assembles one graph that returns the loss, chosen forward outputs and every parameter's gradient.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Graph, Value } from '../ir/graph.ts';
import { backward } from './backward.ts';

/** Where a parameter's gradient appears among the graph outputs. */
export type GradientOutput =
  | { readonly kind: 'dense'; readonly name: string }
  | { readonly kind: 'rows'; readonly indices: string; readonly values: string };

export interface TrainingGraph {
  readonly graph: Graph;
  /** Output name of the scalar loss. */
  readonly loss: string;
  /** Output names of the extra forward outputs. */
  readonly outputs: readonly string[];
  readonly gradients: ReadonlyMap<string, GradientOutput>;
  /** Parameters the loss does not depend on: they get no gradient. */
  readonly unreachable: readonly string[];
}

export interface TrainingGraphOptions {
  readonly loss: Value;
  /** Forward values to return with each step, by output name (logits, hidden states…). */
  readonly outputs?: Readonly<Record<string, Value>>;
  /** Parameters to differentiate; default: every parameter of the graph. */
  readonly params?: readonly Value[];
  /** Return embedding gradients dense instead of as rows. */
  readonly dense?: boolean;
}

export function trainingGraph(g: GraphBuilder, options: TrainingGraphOptions): TrainingGraph {
  const params = options.params ?? g.build().params;
  const result = backward(g, options.loss, params, options.dense ? { dense: true } : {});
  g.output('loss', options.loss);
  const outputs = Object.entries(options.outputs ?? {}).map(([name, value]) => g.output(name, value).name);
  const gradients = new Map<string, GradientOutput>();
  for (const [param, grad] of result.gradients) {
    if (grad.kind === 'dense') {
      gradients.set(param, { kind: 'dense', name: g.output(`grad:${param}`, grad.value).name });
    } else {
      gradients.set(param, {
        kind: 'rows',
        indices: g.output(`grad:${param}:indices`, grad.indices).name,
        values: g.output(`grad:${param}:values`, grad.values).name,
      });
    }
  }
  return { graph: g.build(), loss: 'loss', outputs, gradients, unreachable: result.unreachable };
}

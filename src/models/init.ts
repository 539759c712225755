// Parameter initialization as in Hugging Face BERT: N(0, 0.02) weights and embeddings, zero biases, unit LayerNorm.
import { preview, XlmtError } from '../errors/index.ts';
import type { Graph } from '../ir/graph.ts';
import type { Parameter } from '../ir/params.ts';
import { isStatic } from '../ir/shape.ts';
import { Random } from '../util/random.ts';

export type InitKind = 'normal' | 'zeros' | 'ones';

/** How a parameter is initialized, judged by its Hugging Face name. */
export function initKind(name: string): InitKind {
  const isNorm = /(^|\.)(LayerNorm|layer_norm|ln)[^.]*\./i.test(name);
  if (name.endsWith('bias')) return 'zeros';
  if (isNorm) return 'ones';
  return 'normal';
}

export function initParams(graph: Graph, seed: number, std = 0.02): Map<string, Parameter> {
  const random = new Random(seed);
  const store = new Map<string, Parameter>();
  for (const p of graph.params) {
    if (!isStatic(p.shape)) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'a parameter has a symbolic shape', where: { api: 'initParams', tensor: p.name }, expected: 'sizes only', received: preview(p.shape) });
    }
    const shape = [...p.shape];
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const kind = initKind(p.name);
    if (kind === 'ones') data.fill(1);
    else if (kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
    store.set(p.name, { name: p.name, shape, data });
  }
  return store;
}

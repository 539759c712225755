// Int8 word embeddings: the word table of the fused graph's EmbedLayerNormalization stored as int8 rows with one
// scale per row (int8.ts quantizeRows), its rows dequantized right after the lookup. ONNX Runtime's
// EmbedLayerNormalization takes a float table only, so the node is unfolded (pattern → check → rewrite):
//   EmbedLayerNormalization(ids, word param, position param, gamma, beta[, position_ids])
//     ⇒ LayerNormalization(Cast(Gather(word int8, input_ids)) · Gather(word scales [rows, 1], input_ids)
//                          + Gather(position, position_ids or 0…seq−1))
// Both word lookups index input_ids itself (not a cast of it), so a pass that gathers the rows of every table indexed
// by input_ids (vocabulary trimming) keeps codes and scales together. The cost per batch is in docs/inference-graph.md.
import type { Rewriter } from '../builder/rewrite.ts';
import { rewriteGraph } from '../builder/rewrite.ts';
import type { Graph, Node, Value } from '../ir/graph.ts';
import { tensorFromNumbers } from '../ir/tensor.ts';
import type { Parameter, ParamStore } from '../ir/params.ts';
import { quantizeRows } from './int8.ts';
import { floatMatrix, keptParams, type QuantizedGraph, type Skipped } from './quantize.ts';

interface WordLookup {
  readonly node: Node;
  readonly table: Parameter;
  /** The ids the lookup reads: the graph's input_ids when the node read a Cast of it. */
  readonly ids: Value;
  /** That Cast, when nothing else reads it: dropped with the node. */
  readonly idsCast?: Node;
  readonly epsilon: number;
}

interface Int8Table {
  readonly codes: Value;
  readonly scales: Value;
}

export interface QuantizedTables extends QuantizedGraph {
  /** The word tables now stored as int8 rows, by parameter name. */
  readonly tables: readonly string[];
}

type Match = { readonly match: WordLookup } | { readonly reason: string } | undefined;

function matchEmbedLayerNorm(graph: Graph, node: Node, params: ParamStore, consumers: ReadonlyMap<Value, readonly Node[]>, producers: ReadonlyMap<Value, Node>): Match {
  if (node.opType !== 'EmbedLayerNormalization' || node.domain !== 'com.microsoft') return undefined;
  const [ids, segmentIds, word] = node.inputs;
  const table = floatMatrix(word, params);
  if (table === undefined) return { reason: 'the word table is not a parameter' };
  if (typeof table === 'string') return { reason: table };
  if (!ids) return { reason: 'no input_ids' };
  if (segmentIds) return { reason: 'segment embeddings are not carried over to the unfolded form' };
  if (node.outputs.slice(1).some((v) => (consumers.get(v) ?? []).length > 0 || graph.outputs.includes(v))) {
    return { reason: 'its mask_index or embedding-sum output is used' };
  }
  const epsilon = node.attributes.epsilon;
  const cast = producers.get(ids);
  const source = cast?.opType === 'Cast' && cast.domain === '' ? cast.inputs[0] : undefined;
  const readsInput = cast && source?.kind === 'input' && (source.dtype === 'int64' || source.dtype === 'int32');
  const castUsers = consumers.get(ids) ?? [];
  return {
    match: {
      node, table,
      ids: readsInput ? source : ids,
      ...(readsInput && castUsers.length === 1 && !graph.outputs.includes(ids) ? { idsCast: cast } : {}),
      epsilon: epsilon?.type === 'float' ? epsilon.value : 1e-12, // the contrib op's default
    },
  };
}

/**
 * 0, 1, …, seq−1 in every row of ids [batch, seq]: the positions EmbedLayerNormalization takes when given none (BERT's).
 * Its constants are named after the node: a pass's unnamed constants (`const_<n>`) could take the name of a source
 * constant that the rewrite copies later.
 */
function tokenPositions(r: Rewriter, node: Node, ids: Value): Value {
  const scalar = (name: string, dtype: 'int32' | 'int64', value: number): Value => r.g.constant(tensorFromNumbers(dtype, [], [value]), `${node.name}/${name}`);
  const dtype = ids.dtype === 'int32' ? 'int32' : 'int64';
  const one = scalar('one', dtype, 1);
  const ones = r.g.op.Add(r.g.op.Mul(ids, scalar('zero', dtype, 0)), one);
  const counted = r.g.node1('CumSum', [ones, dtype === 'int64' ? one : scalar('axis', 'int64', 1)]);
  return r.g.op.Sub(counted, one);
}

/** LayerNorm(dequantized word rows + position rows) in place of the matched node. [batch, seq, hidden] */
function unfold(r: Rewriter, m: WordLookup, int8: (table: Parameter) => Int8Table): void {
  const { op } = r.g;
  const [, , , position, , gamma, beta, , positionIds] = m.node.inputs;
  const { codes, scales } = int8(m.table);
  const ids = r.value(m.ids);
  const words = op.Mul(op.Cast(op.Gather(codes, ids), 'float32'), op.Gather(scales, ids)); // [batch, seq, hidden] · [batch, seq, 1]
  const at = positionIds ? r.value(positionIds) : tokenPositions(r, m.node, ids);
  const positions = op.Gather(r.value(position as Value), at); // [batch, seq, hidden]
  // NOTE: the sum and LayerNorm on 2-D [batch·seq, hidden]: on 3-D, ONNX Runtime rewrites Add + LayerNormalization
  // into its slower SkipLayerNormalization (fused.ts's epilogues); measured in docs/inference-graph.md.
  const rows = r.g.constant(tensorFromNumbers('int64', [2], [-1, m.table.shape[1] as number]), `${m.node.name}/rows`);
  const summed = op.Add(op.Reshape(words, rows), op.Reshape(positions, rows));
  const [normed] = op.LayerNormalization(summed, r.value(gamma as Value), r.value(beta as Value), { epsilon: m.epsilon });
  r.replace(m.node.outputs[0] as Value, op.Reshape(normed as Value, op.Shape(words)));
}

/**
 * The word tables of every EmbedLayerNormalization in `graph` as int8 rows (see above). Returns a new graph whose
 * store lacks the float tables it replaced; the input graph and store are left as they are. Run it on the fused
 * graph, before or after quantizeDynamicInt8 (which leaves EmbedLayerNormalization alone).
 */
export function quantizeWordEmbeddings(graph: Graph, params: ParamStore): QuantizedTables {
  const consumers = new Map<Value, Node[]>();
  const producers = new Map<Value, Node>();
  for (const node of graph.nodes) {
    for (const v of node.inputs) if (v) consumers.set(v, [...(consumers.get(v) ?? []), node]);
    for (const v of node.outputs) producers.set(v, node);
  }
  const skipped: Skipped[] = [];
  const matches = new Map<Node, WordLookup>();
  for (const node of graph.nodes) {
    const m = matchEmbedLayerNorm(graph, node, params, consumers, producers);
    if (m && 'reason' in m) skipped.push({ node: node.name, opType: node.opType, reason: m.reason });
    else if (m) matches.set(node, m.match);
  }
  const dropped = new Set([...matches.values()].flatMap((m) => (m.idsCast ? [m.idsCast] : [])));
  const tables = new Map<string, Int8Table>(); // a table two nodes read is quantized once
  const int8 = (r: Rewriter, table: Parameter): Int8Table => {
    const known = tables.get(table.name);
    if (known) return known;
    const [rows, width] = table.shape as [number, number];
    const q = quantizeRows(table.data, rows, width);
    const made = {
      codes: r.g.constant({ dtype: 'int8', shape: [rows, width], data: q.codes }, `${table.name}_quantized`),
      // [rows, 1]: a gathered scale [batch, seq, 1] broadcasts over its row with no Unsqueeze.
      scales: r.g.constant({ dtype: 'float32', shape: [rows, 1], data: q.scales }, `${table.name}_scale`),
    };
    tables.set(table.name, made);
    return made;
  };
  const rewritten = rewriteGraph(graph, (node, r) => {
    if (dropped.has(node)) return true;
    const m = matches.get(node);
    if (!m) return false;
    // A scope of its own: new nodes named like the source's (`embeddings/Cast`) would clash with copied ones.
    r.inScopeOf(node, () => r.g.scope('unfolded', () => unfold(r, m, (table) => int8(r, table))));
    return true;
  });
  return { graph: rewritten, params: keptParams(rewritten, params), skipped, tables: [...tables.keys()] };
}

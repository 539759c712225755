// `--int8-embeddings auto|on|off`: whether an int8 export stores its word-embedding table as int8 rows as well
// (quantize-embeddings.ts; on XLM-R-base the fp32 table is 768 MB of an 816 MB int8 export). The export is built both
// ways and checked both ways (check.ts checkWordTable), so the table's own effect is measured apart from the
// weights' int8 rounding:
// - 'auto' (the default) keeps the int8 table unless, on some task, it makes the export decide fewer texts as the fp32
//   model does, by more than TABLE_MAX_NET_LOSS of the checked texts and significantly (a paired, one-sided McNemar
//   test, 5 % family-wise over the tasks: the int8 weights with the fp32 table are the baseline the table is judged
//   against);
// - 'on' keeps it whatever the check says (the report still gives its effect);
// - 'off' leaves the table fp32 and checks one graph, as before.
import { serialize } from '../builder/serialize.ts';
import type { TrainedModel } from '../train/model-dir.ts';
import { type CheckOptions, checkExport, checkWordTable, type ExportCheck, type TableEffect } from './check.ts';
import { quantizeWordEmbeddings } from './quantize-embeddings.ts';
import { normalQuantile } from '../eval/normal.ts';
import type { ExportGraph } from './export.ts';
import type { Graph } from '../ir/graph.ts';

export type Int8EmbeddingsMode = 'auto' | 'on' | 'off';

export const INT8_EMBEDDINGS_MODES: readonly Int8EmbeddingsMode[] = ['auto', 'on', 'off'];

/**
 * 'auto''s rule. The int8 weights already change some decisions, and under dynamic activation ranges a nudge to one
 * text's embeddings can move a batch's ranges and flip a borderline decision of another text: on the xm-bench
 * teacher the int8 table changed 5-20 % of the int8 export's decisions, about as many towards the fp32 model's as
 * away from them (docs/results.md). So the table is judged by what it costs against the fp32 model: texts the
 * export decided as the fp32 model does and no longer does, net of those it now decides alike. It is refused only
 * when that net loss is both larger than one text in a hundred (what a user would notice) and unlikely to be noise:
 * z on the discordant pairs above the one-sided quantile for TABLE_FAMILY_ALPHA shared among the tasks (Bonferroni,
 * since any one task refuses: 1.645 for one task, 2.128 for three), so neither a small sample nor a large one, nor
 * the number of tasks, decides alone.
 */
export const TABLE_MAX_NET_LOSS = 0.01;
export const TABLE_FAMILY_ALPHA = 0.05;

/** The z beyond which one task's net loss counts, for a check of `tasks` tasks. */
export function tableZ(tasks: number): number {
  return normalQuantile(1 - TABLE_FAMILY_ALPHA / Math.max(1, tasks));
}

/** One task's verdict: the net loss against the fp32 model's decisions, its z, and whether it refuses the table. */
export function tableCost(e: Pick<TableEffect, 'lost' | 'gained' | 'texts'>, tasks = 1): { netLoss: number; z: number; refuses: boolean } {
  const net = e.lost - e.gained;
  const netLoss = e.texts > 0 ? net / e.texts : 0;
  const z = e.lost + e.gained > 0 ? net / Math.sqrt(e.lost + e.gained) : 0;
  return { netLoss, z, refuses: netLoss > TABLE_MAX_NET_LOSS && z > tableZ(tasks) };
}

export interface WordTableReport {
  readonly mode: Int8EmbeddingsMode;
  /** Whether the written export's word table is int8 rows. */
  readonly int8: boolean;
  /** Why, in words: the mode, the check's verdict, or why the table could not be quantized. */
  readonly reason: string;
  /** Size of the export with the fp32 word table, and with the int8 one (null when that was not built). */
  readonly bytesFp32Table: number;
  readonly bytesInt8Table: number | null;
  /** The int8 table's own effect per task (null when it was not checked). */
  readonly effect: readonly TableEffect[] | null;
  /** 'auto''s rule: the largest net loss of the fp32 model's decisions tolerated, and the z beyond which it counts. */
  readonly rule: { readonly maxNetLoss: number; readonly familyAlpha: number; readonly z: number };
}

const rule = (tasks: number): WordTableReport['rule'] => ({ maxNetLoss: TABLE_MAX_NET_LOSS, familyAlpha: TABLE_FAMILY_ALPHA, z: tableZ(tasks) });

export interface CheckedExport {
  readonly graph: Graph;
  readonly bytes: Uint8Array;
  readonly check: ExportCheck;
  readonly wordEmbeddings: WordTableReport;
}

/** Whether 'auto' or 'on' keeps the int8 table, and why, in words. */
export function keepInt8Table(mode: 'auto' | 'on', effect: readonly TableEffect[]): { keep: boolean; reason: string } {
  if (mode === 'on') return { keep: true, reason: '--int8-embeddings on' };
  const bar = `${(TABLE_MAX_NET_LOSS * 100).toFixed(0)}%`;
  const refusing = effect.map((e) => ({ e, cost: tableCost(e, effect.length) })).filter(({ cost }) => cost.refuses);
  if (refusing.length === 0) return { keep: true, reason: `auto: on no task does the int8 table cost significantly more than ${bar} of the fp32 model's decisions` };
  const which = refusing.map(({ e, cost }) => `${e.task}: ${e.lost} lost, ${e.gained} gained of ${e.texts} texts, z ${cost.z.toFixed(2)}`).join('; ');
  return { keep: false, reason: `auto: the int8 table costs more than ${bar} of the fp32 model's decisions, significantly (${which}), so the table stays fp32` };
}

/**
 * The int8 export (weights already quantized in `weights`) with its word table chosen by `mode`, serialized and
 * checked. Throws what checkExport throws.
 */
export async function checkedInt8Export(model: TrainedModel, weights: ExportGraph, mode: Int8EmbeddingsMode, options: CheckOptions): Promise<CheckedExport> {
  const fp32Bytes = serialize(weights.graph, { params: weights.params, producer: 'xlmt export' });
  const fp32Only = async (reason: string): Promise<CheckedExport> => ({
    graph: weights.graph,
    bytes: fp32Bytes,
    check: await checkExport(model, fp32Bytes, options),
    wordEmbeddings: { mode, int8: false, reason, bytesFp32Table: fp32Bytes.length, bytesInt8Table: null, effect: null, rule: rule(model.schema.tasks.length) },
  });
  if (mode === 'off') return fp32Only('--int8-embeddings off');
  const table = quantizeWordEmbeddings(weights.graph, weights.params);
  if (table.tables.length === 0) {
    const why = table.skipped.map((s) => `${s.node}: ${s.reason}`).join('; ') || 'the graph has no EmbedLayerNormalization';
    return fp32Only(`the word table could not be quantized (${why})`);
  }
  const int8Bytes = serialize(table.graph, { params: table.params, producer: 'xlmt export' });
  const checked = await checkWordTable(model, { fp32Table: fp32Bytes, int8Table: int8Bytes }, options);
  const { keep, reason } = keepInt8Table(mode, checked.effect);
  return {
    graph: keep ? table.graph : weights.graph,
    bytes: keep ? int8Bytes : fp32Bytes,
    check: keep ? checked.int8Table : checked.fp32Table,
    wordEmbeddings: { mode, int8: keep, reason, bytesFp32Table: fp32Bytes.length, bytesInt8Table: int8Bytes.length, effect: checked.effect, rule: rule(checked.effect.length) },
  };
}

// `--int8-embeddings auto|on|off`: whether an int8 export stores its word-embedding table as int8 rows as well
// (quantize-embeddings.ts; on XLM-R-base the fp32 table is 768 MB of an 816 MB int8 export). The export is built both
// ways and checked both ways (check.ts checkWordTable), so the table's own effect is measured apart from the
// weights' int8 rounding:
// - 'auto' (the default) keeps the int8 table when it leaves decisions unchanged on the self-check: on every task,
//   at least TABLE_MIN_AGREEMENT of the checked texts get the same decision with it as with the fp32 table;
// - 'on' keeps it whatever the check says (the report still gives its effect);
// - 'off' leaves the table fp32 and checks one graph, as before.
import { serialize } from '../builder/serialize.ts';
import type { TrainedModel } from '../train/model-dir.ts';
import { type CheckOptions, checkExport, checkWordTable, type ExportCheck, type TableEffect } from './check.ts';
import { quantizeWordEmbeddings } from './quantize-embeddings.ts';
import type { ExportGraph } from './export.ts';
import type { Graph } from '../ir/graph.ts';

export type Int8EmbeddingsMode = 'auto' | 'on' | 'off';

export const INT8_EMBEDDINGS_MODES: readonly Int8EmbeddingsMode[] = ['auto', 'on', 'off'];

/**
 * 'auto''s bar. Rounding every table value by up to half its row's step nudges each text's probabilities; a decision
 * changes only where two labels (or a label and its threshold) are about that close. A bar of exactly 100 % would
 * turn on the sample size (one borderline text in a large sample drops the table); 99 % tolerates one text in a
 * hundred, and the report gives every task's share and macro-F1 change so a stricter reader can choose 'off'.
 */
export const TABLE_MIN_AGREEMENT = 0.99;

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
  readonly minAgreement: number;
}

export interface CheckedExport {
  readonly graph: Graph;
  readonly bytes: Uint8Array;
  readonly check: ExportCheck;
  readonly wordEmbeddings: WordTableReport;
}

/** Whether 'auto' or 'on' keeps the int8 table, and why, in words. */
export function keepInt8Table(mode: 'auto' | 'on', effect: readonly TableEffect[]): { keep: boolean; reason: string } {
  if (mode === 'on') return { keep: true, reason: '--int8-embeddings on' };
  const below = effect.filter((e) => !(e.agreement >= TABLE_MIN_AGREEMENT)); // a NaN agreement counts as below
  const bar = `${(TABLE_MIN_AGREEMENT * 100).toFixed(0)}%`;
  if (below.length === 0) return { keep: true, reason: `auto: every task's decisions at least ${bar} unchanged by the int8 table` };
  const which = below.map((e) => `${e.task} ${(e.agreement * 100).toFixed(1)}%`).join(', ');
  return { keep: false, reason: `auto: the int8 table left fewer than ${bar} of decisions unchanged (${which}), so the table stays fp32` };
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
    wordEmbeddings: { mode, int8: false, reason, bytesFp32Table: fp32Bytes.length, bytesInt8Table: null, effect: null, minAgreement: TABLE_MIN_AGREEMENT },
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
    wordEmbeddings: { mode, int8: keep, reason, bytesFp32Table: fp32Bytes.length, bytesInt8Table: int8Bytes.length, effect: checked.effect, minAgreement: TABLE_MIN_AGREEMENT },
  };
}

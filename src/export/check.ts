// Every export checks itself against the model it came from: the reference graph (the training graph's forward
// pass, unfused, fp32) and the exported graph score the same inputs. An fp32 export must match within
// FP32_TOLERANCE, and no export may give NaN or Inf, or it is not written (EXPORT_CHECK_FAILED); an int8 export
// reports how far its probabilities moved, how often its decisions changed, and the macro-F1 change on a
// labeled sample. An int8 export whose word-embedding table may be int8 too is checked with and without it
// (checkWordTable), so the table's own effect is reported apart and the export can keep or drop it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { serialize } from '../builder/serialize.ts';
import { loadDataset, type Dataset } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { batchedProbabilities } from '../infer/batching.ts';
import { gatherRows } from '../infer/batching.ts';
import { decide, type TaskInfo } from '../infer/types.ts';
import { ModelFile } from '../runtime/model-file.ts';
import { evaluateDataset } from '../train/evaluate.ts';
import { encodeExamples } from '../train/examples.ts';
import type { TrainedModel } from '../train/model-dir.ts';
import { Random } from '../util/random.ts';
import { referenceInferenceGraph } from './graph.ts';

/** Largest probability difference allowed between a fused fp32 export and the reference (fp32 reordering only). */
export const FP32_TOLERANCE = 1e-4;

export interface CheckOptions {
  readonly quantization: 'none' | 'int8-per-tensor' | 'int8-per-channel';
  readonly checkData?: string;
  readonly checkSample: number;
  readonly threads: number;
  readonly modelDir: string;
}

export interface TaskCheck {
  readonly task: string;
  /** Largest |p_exported − p_reference| over the compared texts and labels. */
  readonly maxAbsDiff: number;
  /** Share of texts whose decision (label, or label set at the tuned thresholds) is unchanged. */
  readonly agreement: number;
  /** Macro-F1 of each graph on the labeled sample, and exported − reference (points ×100 in reports). */
  readonly referenceMacroF1?: number;
  readonly exportedMacroF1?: number;
  readonly macroF1Change?: number;
  /** Labeled examples of this task in the sample. */
  readonly labeled?: number;
}

export interface ExportCheck {
  /** The data file sampled, or null when random token ids were used. */
  readonly data: string | null;
  readonly examples: number;
  readonly tolerance: number | null;
  readonly tasks: readonly TaskCheck[];
}

/** The dev file of the run a model came from (`RUN/best` → RUN/config.json's dev), when it still exists. */
export function runDevFile(modelDir: string): string | undefined {
  const config = join(dirname(modelDir), 'config.json');
  if (!existsSync(config)) return undefined;
  try {
    const dev = (JSON.parse(readFileSync(config, 'utf8')) as { dev?: unknown }).dev;
    return typeof dev === 'string' && existsSync(dev) ? dev : undefined;
  } catch {
    return undefined;
  }
}

function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  const random = new Random(seed);
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order.slice(0, n).sort((a, b) => a - b).map((i) => items[i] as T);
}

function randomIds(model: TrainedModel, count: number): Int32Array[] {
  const random = new Random(7);
  const vocab = model.hf.encoder.vocabSize;
  return Array.from({ length: count }, () => {
    const length = 2 + random.int(model.meta.maxLength - 1);
    return Int32Array.from({ length }, () => random.int(vocab));
  });
}

/** What every graph of one check is scored on: the same texts, tasks and reference probabilities. */
interface Scoring {
  readonly dataFile: string | undefined;
  readonly dataset: Dataset | null;
  readonly ids: readonly Int32Array[];
  readonly tasks: readonly TaskInfo[];
  readonly reference: Scored;
}

interface Scored {
  readonly probs: Map<string, Float32Array>;
  /** Macro-F1 per task on the labeled sample, when there is one. */
  readonly f1: ReadonlyMap<string, { readonly macroF1: number; readonly n: number }> | null;
}

const BATCHING = { batchSize: 32 };

async function score(model: TrainedModel, bytes: Uint8Array, source: string, s: Omit<Scoring, 'reference'>, threads: number, isReference: boolean): Promise<Scored> {
  const file = await ModelFile.load(bytes, { threads }, source);
  try {
    // batchedProbabilities refuses NaN and Inf: from the reference that is the model's own NON_FINITE, from an
    // exported graph a failed check.
    const probs = await batchedProbabilities(file, s.ids, s.tasks, { ...BATCHING, padId: model.meta.padId }).catch((e: unknown) => {
      throw !isReference && e instanceof XlmtError && e.code === 'NON_FINITE' ? nonFiniteExport(e) : e;
    });
    const evaluated = s.dataset
      ? await evaluateDataset(async (indices) => gatherRows(probs, indices, s.tasks), s.dataset, model.schema.tasks, { tune: false, thresholds: model.meta.thresholds })
      : null;
    return { probs, f1: evaluated ? new Map(evaluated.reports.map((r) => [r.task, { macroF1: r.macroF1, n: r.n }])) : null };
  } finally {
    await file.release();
  }
}

async function scoring(model: TrainedModel, options: CheckOptions): Promise<Scoring> {
  const dataFile = options.checkData ?? runDevFile(options.modelDir);
  let dataset: Dataset | null = null;
  if (dataFile) {
    const full = await loadDataset(dataFile, { schema: model.schema });
    dataset = { ...full, examples: sample(full.examples, options.checkSample, 1) };
  }
  const ids = dataset ? [...(await encodeExamples(model.tokenizer, dataset, model.meta.maxLength)).ids] : randomIds(model, 64);
  const tasks: TaskInfo[] = model.schema.tasks.map((t) => ({ name: t.name, type: t.type, labels: t.labels, ...(model.meta.thresholds[t.name] ? { thresholds: model.meta.thresholds[t.name] as number[] } : {}) }));
  const referenceGraph = referenceInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions });
  const base = { dataFile, dataset, ids, tasks };
  const reference = await score(model, serialize(referenceGraph, { params: model.params }), `reference graph of ${options.modelDir}`, base, options.threads, true);
  return { ...base, reference };
}

/** Per text of the check, whether `a` and `b` decide `task` alike (the label, or the label set at the thresholds). */
function decidesAlike(s: Scoring, a: Scored, b: Scored, task: TaskInfo): boolean[] {
  const pa = a.probs.get(task.name) as Float32Array;
  const pb = b.probs.get(task.name) as Float32Array;
  const width = task.labels.length;
  return s.ids.map((_, i) => {
    const da = decide(task, pa.subarray(i * width, (i + 1) * width));
    const db = decide(task, pb.subarray(i * width, (i + 1) * width));
    return JSON.stringify('label' in da ? da.label : da.labels) === JSON.stringify('label' in db ? db.label : db.labels);
  });
}

/** Largest |p_b − p_a| and the share of texts whose decision is the same, per task. */
function compare(s: Scoring, a: Scored, b: Scored): { task: string; maxAbsDiff: number; agreement: number }[] {
  return s.tasks.map((task) => {
    const pa = a.probs.get(task.name) as Float32Array;
    const pb = b.probs.get(task.name) as Float32Array;
    // Math.max keeps a NaN, which then fails the check rather than passing every comparison.
    let maxAbsDiff = 0;
    for (let i = 0; i < pa.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs((pa[i] as number) - (pb[i] as number)));
    const same = decidesAlike(s, a, b, task).filter(Boolean).length;
    return { task: task.name, maxAbsDiff, agreement: s.ids.length > 0 ? same / s.ids.length : 1 };
  });
}

/**
 * The paired comparison of two exports against the reference, per task: `lost` counts the texts the first decides as
 * the reference does and the second does not, `gained` the reverse (the discordant pairs of McNemar's test).
 */
function pairedAgainstReference(s: Scoring, first: Scored, second: Scored): Map<string, { lost: number; gained: number }> {
  return new Map(s.tasks.map((task) => {
    const a = decidesAlike(s, s.reference, first, task);
    const b = decidesAlike(s, s.reference, second, task);
    return [task.name, { lost: a.filter((x, i) => x && !b[i]).length, gained: a.filter((x, i) => !x && b[i]).length }];
  }));
}

/** An exported graph against the reference; refused (EXPORT_CHECK_FAILED) as checkExport says. */
function against(s: Scoring, exported: Scored, options: CheckOptions): ExportCheck {
  const checks: TaskCheck[] = compare(s, s.reference, exported).map((c) => {
    const r0 = s.reference.f1?.get(c.task);
    const r1 = exported.f1?.get(c.task);
    return { ...c, ...(r0 && r1 ? { referenceMacroF1: r0.macroF1, exportedMacroF1: r1.macroF1, macroF1Change: r1.macroF1 - r0.macroF1, labeled: r0.n } : {}) };
  });
  const tolerance = options.quantization === 'none' ? FP32_TOLERANCE : null;
  const off = checks.filter((c) => !Number.isFinite(c.maxAbsDiff) || (tolerance !== null && c.maxAbsDiff > tolerance));
  if (off.length > 0) throw mismatch(off, tolerance);
  return { data: s.dataFile ?? null, examples: s.ids.length, tolerance, tasks: checks };
}

export async function checkExport(model: TrainedModel, exported: Uint8Array, options: CheckOptions): Promise<ExportCheck> {
  const s = await scoring(model, options);
  return against(s, await score(model, exported, 'exported graph', s, options.threads, false), options);
}

/** A forward pass other than the reference graph that an export is also compared with (a QAT model's fake int8). */
export interface OtherForward {
  /** Probabilities [texts, labels] per task for token ids, in order. */
  probabilities(ids: readonly Int32Array[]): Promise<Map<string, Float32Array>>;
}

/** One task of an export against another forward pass: how far apart, how often they decide alike, and macro-F1. */
export interface AgainstOther {
  readonly task: string;
  readonly maxAbsDiff: number;
  readonly agreement: number;
  /** Macro-F1 of the other forward pass and of the export on the labeled sample. */
  readonly otherMacroF1?: number;
  readonly exportedMacroF1?: number;
}

/** The export against `other` on the check's texts (the same sample as checkExport's). */
export async function checkAgainstOther(model: TrainedModel, exported: Uint8Array, other: OtherForward, options: CheckOptions): Promise<AgainstOther[]> {
  const s = await scoring(model, options);
  const probs = await other.probabilities(s.ids);
  const evaluated = s.dataset
    ? await evaluateDataset(async (indices) => gatherRows(probs, indices, s.tasks), s.dataset, model.schema.tasks, { tune: false, thresholds: model.meta.thresholds })
    : null;
  const otherScored: Scored = { probs, f1: evaluated ? new Map(evaluated.reports.map((r) => [r.task, { macroF1: r.macroF1, n: r.n }])) : null };
  const exportedScored = await score(model, exported, 'exported graph', s, options.threads, false);
  return compare(s, otherScored, exportedScored).map((c) => {
    const a = otherScored.f1?.get(c.task);
    const b = exportedScored.f1?.get(c.task);
    return { ...c, ...(a && b ? { otherMacroF1: a.macroF1, exportedMacroF1: b.macroF1 } : {}) };
  });
}

/** The int8 word table's own effect on one task: the int8-table graph against the same graph with the fp32 table. */
export interface TableEffect {
  readonly task: string;
  readonly maxAbsDiff: number;
  /** Share of texts whose decision the int8 table leaves as the fp32 table makes it. */
  readonly agreement: number;
  /** Macro-F1 with the int8 table − with the fp32 table, on the labeled sample. */
  readonly macroF1Change?: number;
  /**
   * Against the reference (the fp32 model): texts decided as the reference decides them with the fp32 table but not
   * with the int8 one (`lost`), and the reverse (`gained`), out of `texts`.
   */
  readonly lost: number;
  readonly gained: number;
  readonly texts: number;
}

export interface WordTableCheck {
  /** The export with the fp32 word table against the reference. */
  readonly fp32Table: ExportCheck;
  /** The export with the int8 word table against the reference. */
  readonly int8Table: ExportCheck;
  readonly effect: readonly TableEffect[];
}

/**
 * Checks two int8 exports that differ only in their word-embedding table (fp32, or int8 rows) against the reference,
 * and against each other, so the table's own effect shows apart from the weights' int8 rounding. One graph is loaded
 * at a time.
 */
export async function checkWordTable(model: TrainedModel, exported: { readonly fp32Table: Uint8Array; readonly int8Table: Uint8Array }, options: CheckOptions): Promise<WordTableCheck> {
  const s = await scoring(model, options);
  const withFp32 = await score(model, exported.fp32Table, 'exported graph (fp32 word table)', s, options.threads, false);
  const withInt8 = await score(model, exported.int8Table, 'exported graph (int8 word table)', s, options.threads, false);
  const fp32Table = against(s, withFp32, options);
  const int8Table = against(s, withInt8, options);
  const paired = pairedAgainstReference(s, withFp32, withInt8);
  const effect = compare(s, withFp32, withInt8).map((c) => {
    const f0 = fp32Table.tasks.find((t) => t.task === c.task)?.exportedMacroF1;
    const f1 = int8Table.tasks.find((t) => t.task === c.task)?.exportedMacroF1;
    const { lost, gained } = paired.get(c.task) as { lost: number; gained: number };
    return { ...c, ...(f0 !== undefined && f1 !== undefined ? { macroF1Change: f1 - f0 } : {}), lost, gained, texts: s.ids.length };
  });
  return { fp32Table, int8Table, effect };
}

function mismatch(off: readonly TaskCheck[], tolerance: number | null): XlmtError {
  const [only] = off.length === 1 ? off : [];
  return new XlmtError({
    code: 'EXPORT_CHECK_FAILED',
    ...(only ? { where: { task: only.task } } : {}),
    message: 'the exported graph\'s probabilities differ from the reference graph\'s; nothing was written',
    expected: tolerance === null ? 'a finite largest |Δp|' : `a largest |Δp| of at most ${tolerance}`,
    received: off.map((c) => `${c.task} ${c.maxAbsDiff.toExponential(2)}`).join(', '),
    hint: 'the export computes something other than the trained model: a bug in xlmt export; please report it with the model directory',
    details: { tolerance, tasks: off.map((c) => ({ task: c.task, maxAbsDiff: String(c.maxAbsDiff) })) },
  });
}

function nonFiniteExport(cause: XlmtError): XlmtError {
  return new XlmtError(
    {
      code: 'EXPORT_CHECK_FAILED',
      ...(cause.where?.task === undefined ? {} : { where: { task: cause.where.task } }),
      message: `the exported graph gives a non-finite probability where the reference graph does not (${cause.problem}); nothing was written`,
      expected: 'finite probabilities, as the reference graph gives',
      hint: 'a bug in xlmt export or its int8 pass; please report it with the model directory',
      ...(cause.details === undefined ? {} : { details: cause.details }),
    },
    { cause },
  );
}


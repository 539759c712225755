// Every export checks itself against the model it came from: the reference graph (the training graph's forward
// pass, unfused, fp32) and the exported graph score the same inputs. An fp32 export must match within
// FP32_TOLERANCE, and no export may give NaN or Inf, or it is not written (EXPORT_CHECK_FAILED); an int8 export
// reports how far its probabilities moved, how often its decisions changed, and the macro-F1 change on a
// labeled sample.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { serialize } from '../builder/serialize.ts';
import { loadDataset, type Dataset } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { batchedProbabilities } from '../infer/batching.ts';
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

export async function checkExport(model: TrainedModel, exported: Uint8Array, options: CheckOptions): Promise<ExportCheck> {
  const dataFile = options.checkData ?? runDevFile(options.modelDir);
  let dataset: Dataset | null = null;
  if (dataFile) {
    const full = await loadDataset(dataFile, { schema: model.schema });
    dataset = { ...full, examples: sample(full.examples, options.checkSample, 1) };
  }
  const ids = dataset ? [...(await encodeExamples(model.tokenizer, dataset, model.meta.maxLength)).ids] : randomIds(model, 64);
  const tasks: TaskInfo[] = model.schema.tasks.map((t) => ({ name: t.name, type: t.type, labels: t.labels, ...(model.meta.thresholds[t.name] ? { thresholds: model.meta.thresholds[t.name] as number[] } : {}) }));
  const referenceGraph = referenceInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions });
  const reference = await ModelFile.load(serialize(referenceGraph, { params: model.params }), { threads: options.threads }, `reference graph of ${options.modelDir}`);
  const candidate = await ModelFile.load(exported, { threads: options.threads }, 'exported graph');
  try {
    const batching = { padId: model.meta.padId, batchSize: 32 };
    // batchedProbabilities refuses NaN and Inf: from the reference that is the model's own NON_FINITE, from the
    // exported graph a failed check.
    const p0 = await batchedProbabilities(reference, ids, tasks, batching);
    const p1 = await batchedProbabilities(candidate, ids, tasks, batching).catch((e: unknown) => {
      throw e instanceof XlmtError && e.code === 'NON_FINITE' ? nonFiniteExport(e) : e;
    });
    const f1 = dataset
      ? await Promise.all([p0, p1].map((p) => evaluateDataset(async (indices) => gather(p, indices, tasks), dataset, model.schema.tasks, { tune: false, thresholds: model.meta.thresholds })))
      : null;
    const checks: TaskCheck[] = tasks.map((task) => {
      const a = p0.get(task.name) as Float32Array;
      const b = p1.get(task.name) as Float32Array;
      // Math.max keeps a NaN, which then fails the check below rather than passing every comparison.
      let maxAbsDiff = 0;
      for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs((a[i] as number) - (b[i] as number)));
      const width = task.labels.length;
      let same = 0;
      for (let i = 0; i < ids.length; i++) {
        const da = decide(task, a.subarray(i * width, (i + 1) * width));
        const db = decide(task, b.subarray(i * width, (i + 1) * width));
        if (JSON.stringify('label' in da ? da.label : da.labels) === JSON.stringify('label' in db ? db.label : db.labels)) same++;
      }
      const r0 = f1?.[0]?.reports.find((r) => r.task === task.name);
      const r1 = f1?.[1]?.reports.find((r) => r.task === task.name);
      return {
        task: task.name,
        maxAbsDiff,
        agreement: ids.length > 0 ? same / ids.length : 1,
        ...(r0 && r1 ? { referenceMacroF1: r0.macroF1, exportedMacroF1: r1.macroF1, macroF1Change: r1.macroF1 - r0.macroF1, labeled: r0.n } : {}),
      };
    });
    const tolerance = options.quantization === 'none' ? FP32_TOLERANCE : null;
    const off = checks.filter((c) => !Number.isFinite(c.maxAbsDiff) || (tolerance !== null && c.maxAbsDiff > tolerance));
    if (off.length > 0) throw mismatch(off, tolerance);
    return { data: dataFile ?? null, examples: ids.length, tolerance, tasks: checks };
  } finally {
    await reference.release();
    await candidate.release();
  }
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

function gather(probs: Map<string, Float32Array>, indices: readonly number[], tasks: readonly TaskInfo[]): Map<string, Float32Array> {
  return new Map(tasks.map((t) => {
    const width = t.labels.length;
    const all = probs.get(t.name) as Float32Array;
    const out = new Float32Array(indices.length * width);
    indices.forEach((row, i) => out.set(all.subarray(row * width, (row + 1) * width), i * width));
    return [t.name, out];
  }));
}

// The resumable state of a training run (checkpoints/last): parameters, optimizer buffers, progress and what the
// objective keeps beside them (objective.json, when it keeps anything), written atomically.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { float32Tensor, readSafetensors, toFloat32, writeSafetensors } from '../../checkpoint/index.ts';
import type { Parameter } from '../../ir/params.ts';
import type { OptimizerState } from '../../optim/index.ts';
import { recoverDir, replaceDir, type OutputCommand } from '../../util/output-dir.ts';
import { XlmtError } from '../../errors/index.ts';

const ProgressSchema = z.strictObject({
  /** The epoch being trained (0-based) and the index of its next batch. */
  epoch: z.number().int().min(0),
  batch: z.number().int().min(0),
  /** Steps taken: optimizer updates in a run sized in epochs, batches consumed in one sized in steps (objective.ts). */
  step: z.number().int().min(0),
  /**
   * The best evaluation score so far (the objective's; higher is better) and the run's `epoch` when it was reached
   * (at an epoch's end: the epochs completed); null until then, and always for an objective that keeps its latest
   * model.
   */
  best: z.strictObject({ score: z.number(), epoch: z.number().int() }).nullable(),
  /** Evaluations since the best one (early stopping). */
  stale: z.number().int().min(0),
  /** Lines of metrics.jsonl written up to this state: a resumed run drops any written after it. */
  metricsLines: z.number().int().min(0),
  /** The run ended (all epochs, or early stopping). */
  done: z.boolean(),
  /** A hash of the settings that must not change across a resume. */
  fingerprint: z.string(),
});

export type RunProgress = z.infer<typeof ProgressSchema>;

const PARAMS_FILE = 'params.safetensors';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const PROGRESS_FILE = 'progress.json';
/** The objective's own state (objective.ts ObjectiveState), a JSON value; absent when it keeps none. */
export const OBJECTIVE_STATE_FILE = 'objective.json';

/** `command`: the run's command (train, pretrain), whose run directory holds `dir`. */
export async function saveRunState(
  dir: string, params: ReadonlyMap<string, Parameter>, optimizer: OptimizerState, progress: RunProgress, command: OutputCommand, objective?: unknown,
): Promise<void> {
  await replaceDir(dir, command, async (tmp) => {
    await mkdir(tmp, { recursive: true });
    await writeSafetensors(join(tmp, PARAMS_FILE), [...params].map(([name, p]) => [name, float32Tensor(p.data, p.shape)]));
    await writeSafetensors(
      join(tmp, OPTIMIZER_FILE),
      [...optimizer.buffers].map(([name, data]) => [name, float32Tensor(data, [data.length])]),
      { kind: optimizer.kind, step: String(optimizer.step) },
    );
    await writeFile(join(tmp, PROGRESS_FILE), `${JSON.stringify(progress, null, 2)}\n`);
    if (objective !== undefined) await writeFile(join(tmp, OBJECTIVE_STATE_FILE), `${JSON.stringify(objective, null, 2)}\n`);
  });
}

export type LoadedRunState =
  | {
    readonly slim: false;
    readonly params: Map<string, Float32Array>;
    readonly optimizer: OptimizerState;
    readonly progress: RunProgress;
    /** The objective's state as saved; undefined when the checkpoint has none. */
    readonly objective: unknown;
  }
  /** A finished run's checkpoint slimmed to its progress (slimFinishedRunState): it says the run ended, no more. */
  | { readonly slim: true; readonly progress: RunProgress };

/** The saved progress in `dir` (a run's checkpoints/last), or null when the run has none yet. */
export async function loadRunProgress(dir: string): Promise<RunProgress | null> {
  await recoverDir(dir);
  const progressPath = join(dir, PROGRESS_FILE);
  if (!existsSync(progressPath)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(progressPath, 'utf8'));
  } catch (e) {
    throw new XlmtError({ code: 'BAD_RUN_STATE', message: `cannot read the run's progress (${(e as Error).message})`, where: { file: progressPath } }, { cause: e });
  }
  const parsed = ProgressSchema.safeParse(raw);
  if (!parsed.success) {
    throw new XlmtError({ code: 'BAD_RUN_STATE', message: `invalid run progress (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`, where: { file: progressPath } });
  }
  return parsed.data;
}

/** The saved state in `dir`, or null when the run has none yet. */
export async function loadRunState(dir: string): Promise<LoadedRunState | null> {
  const progress = await loadRunProgress(dir);
  if (progress === null) return null;
  if (progress.done && !existsSync(join(dir, PARAMS_FILE))) return { slim: true, progress };
  const floats = async (file: string): Promise<{ tensors: Map<string, Float32Array>; metadata: Readonly<Record<string, string>> }> => {
    const read = await readSafetensors(join(dir, file));
    const tensors = new Map<string, Float32Array>();
    for (const [name, t] of read.tensors) tensors.set(name, toFloat32(t.dtype, t.bytes).data);
    return { tensors, metadata: read.metadata ?? {} };
  };
  const params = await floats(PARAMS_FILE);
  const optimizer = await floats(OPTIMIZER_FILE);
  const kind = optimizer.metadata.kind;
  const step = Number(optimizer.metadata.step);
  if (!kind || !Number.isInteger(step)) throw new XlmtError({ code: 'BAD_RUN_STATE', message: 'the metadata must carry the optimizer kind and step', where: { file: join(dir, OPTIMIZER_FILE) } });
  const objectivePath = join(dir, OBJECTIVE_STATE_FILE);
  let objective: unknown;
  if (existsSync(objectivePath)) {
    try {
      objective = JSON.parse(await readFile(objectivePath, 'utf8'));
    } catch (e) {
      throw new XlmtError({ code: 'BAD_RUN_STATE', message: `cannot read the objective's state (${(e as Error).message})`, where: { file: objectivePath } }, { cause: e });
    }
  }
  return { slim: false, params: params.tensors, optimizer: { kind, step, buffers: optimizer.tensors }, progress, objective };
}

/**
 * A finished run's checkpoint in `dir` slimmed to its progress: the parameters and optimizer buffers (three times the
 * model) removed, progress.json kept, so the run still reads as ended (the same command says so rather than starting
 * over) and its best model is untouched. Returns the bytes removed; 0, touching nothing, for a run not ended.
 */
export async function slimFinishedRunState(dir: string): Promise<number> {
  const progress = await loadRunProgress(dir);
  if (!progress?.done) return 0;
  let bytes = 0;
  for (const file of [PARAMS_FILE, OPTIMIZER_FILE].map((f) => join(dir, f)).filter((f) => existsSync(f))) {
    bytes += (await stat(file)).size;
    await rm(file);
  }
  return bytes;
}

// The resumable checkpoints of finished trainings, slimmed once the step that ran them is recorded: by xlmt
// compress (a recipe's step, a search's step) and xlmt distill (a stage).
//
// Each training keeps its last checkpoint (weights and the AdamW moments: three times the model) so that a kill
// loses at most a few minutes. After its step is recorded (compress.json, search.json, distill.json) no command resumes it,
// and the next steps read its best/ model. Kept, a few trainings of a base-sized encoder fill tens of GB (the eight
// trainings of examples/xm-bench-narrow.yaml left 6.9 GB of checkpoints here). Each finished run keeps its
// progress.json, so it still reads as ended: `xlmt train` on its directory says so instead of starting over.
import type { Dirent } from 'node:fs';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runDir } from './resume.ts';
import { slimFinishedRunState } from './run-state.ts';

export interface SlimmedCheckpoints {
  /** The run directories whose checkpoint was slimmed. */
  readonly runs: readonly string[];
  readonly bytes: number;
}

/** Slims the checkpoint of every finished training run at or under `dir` (links are not followed). */
export async function slimFinishedCheckpoints(dir: string): Promise<SlimmedCheckpoints> {
  const runs: string[] = [];
  let bytes = 0;
  const visit = async (at: string): Promise<void> => {
    const entries: Dirent[] = await readdir(at, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory() && e.name === 'checkpoints')) {
      const freed = await slimFinishedRunState(runDir(at).last);
      if (freed > 0) {
        runs.push(at);
        bytes += freed;
      }
    }
    for (const e of entries) if (e.isDirectory() && e.name !== 'checkpoints') await visit(join(at, e.name));
  };
  await visit(dir);
  return { runs, bytes };
}

/** The log line for what was removed; null when nothing was. */
export function slimmedLine(step: string, slimmed: SlimmedCheckpoints): string | null {
  if (slimmed.runs.length === 0) return null;
  const size = slimmed.bytes >= 1e9 ? `${(slimmed.bytes / 1e9).toFixed(1)} GB` : `${(slimmed.bytes / 1e6).toFixed(1)} MB`;
  const runs = `${slimmed.runs.length} finished training${slimmed.runs.length === 1 ? '' : 's'}`;
  return `${step}: removed the weights and optimizer state of the checkpoints of ${runs} (${size}); --keep-checkpoints keeps them`;
}

/** Once the step `name` (its folder `dir`) is recorded: its finished trainings slimmed and said, unless `keep`. */
export async function slimAfterStep(name: string, dir: string, keep: boolean | undefined, log: (line: string) => void): Promise<void> {
  if (keep || !existsSync(dir)) return;
  const said = slimmedLine(name, await slimFinishedCheckpoints(dir));
  if (said !== null) log(said);
}

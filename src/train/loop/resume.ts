// A run directory's files and how a run takes them up: a new run writes config.json and an empty metrics.jsonl; a
// run with a checkpoint resumes from it when its settings' fingerprint matches, and is refused otherwise.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parameter } from '../../ir/params.ts';
import type { Optimizer } from '../../optim/index.ts';
import { XlmtError } from '../../errors/index.ts';
import type { ObjectiveState, RunIdentity, RunSize } from './objective.ts';
import { loadRunState, OBJECTIVE_STATE_FILE, type RunProgress } from './run-state.ts';

export interface RunDir {
  readonly out: string;
  /** The resumable state, replaced at every checkpoint. */
  readonly last: string;
  readonly metrics: string;
  readonly config: string;
}

export function runDir(out: string): RunDir {
  return { out, last: join(out, 'checkpoints', 'last'), metrics: join(out, 'metrics.jsonl'), config: join(out, 'config.json') };
}

/** The hash a checkpoint records of the settings (and data) it was trained with. */
export function fingerprintOf<C>(identity: RunIdentity<C>, config: C): string {
  const settings = createHash('sha256').update(JSON.stringify(identity.settings(config))).digest('hex').slice(0, 16);
  return identity.data === undefined ? settings : `${settings}:${identity.data}`;
}

/** The data hash a fingerprint ends with; undefined when the run had no data hash. */
function dataPart(fingerprint: string): string | undefined {
  const at = fingerprint.indexOf(':');
  return at < 0 ? undefined : fingerprint.slice(at + 1);
}

/**
 * config.json read by this version's schema, so settings added since the run began take their defaults; null when
 * it is missing, unreadable or no longer valid. A run begun by an earlier version resumes when this matches the
 * current configuration, although its saved fingerprint (taken over the fields that version had) differs.
 */
function readSavedConfig<C>(file: string, parse: (input: unknown, where: string) => C): C | null {
  try {
    return parse(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch {
    return null;
  }
}

function writeConfig<C>(dir: RunDir, config: C): void {
  writeFileSync(dir.config, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Where the run stands: a fresh start, or the saved progress with the parameters and optimizer restored from
 * checkpoints/last. A run that goes on keeps the metrics.jsonl lines written up to its checkpoint; a finished one
 * (progress.done) is left as it is, its parameters restored unless its checkpoint was slimmed to the progress.
 */
export async function resumeOrBegin<C>(
  dir: RunDir,
  run: { readonly identity: RunIdentity<C>; readonly size: RunSize; readonly params: ReadonlyMap<string, Parameter>; readonly state?: ObjectiveState },
  optimizer: Optimizer,
  log: (line: string) => void,
): Promise<RunProgress> {
  const { identity, size, params } = run;
  const fingerprint = fingerprintOf(identity, identity.config);
  const fresh: RunProgress = { epoch: 0, batch: 0, step: 0, best: null, stale: 0, metricsLines: 0, done: false, fingerprint };
  const saved = await loadRunState(dir.last);
  if (!saved) {
    writeConfig(dir, identity.config);
    writeFileSync(dir.metrics, '');
    return fresh;
  }
  if (saved.progress.fingerprint !== fingerprint) {
    const before = readSavedConfig(dir.config, identity.parse);
    // config.json re-read explains a changed settings hash (fields added since); the data's hash must still agree.
    const sameData = dataPart(saved.progress.fingerprint) === identity.data;
    if (!before || !sameData || fingerprintOf(identity, before) !== fingerprint) throw identity.refusal(before, saved.progress.fingerprint, fingerprint);
    writeConfig(dir, identity.config); // with the fields added since
  }
  if (saved.slim) return { ...saved.progress, fingerprint }; // ended, its weights and optimizer state removed
  for (const [name, p] of params) {
    const data = saved.params.get(name);
    if (!data || data.length !== p.data.length) {
      throw new XlmtError({ code: 'BAD_RUN_STATE', message: 'a parameter is missing or has the wrong size', where: { file: dir.last, tensor: name }, expected: `${p.data.length} values`, received: data ? `${data.length}` : 'none' });
    }
    p.data.set(data);
  }
  optimizer.loadState(saved.optimizer, params);
  if (run.state) {
    const file = join(dir.last, OBJECTIVE_STATE_FILE);
    if (saved.objective === undefined) throw new XlmtError({ code: 'BAD_RUN_STATE', message: 'the checkpoint lacks the objective\'s state', where: { file }, hint: 'the run cannot be resumed; choose another --out' });
    run.state.restore(saved.objective, file);
  }
  const progress = { ...saved.progress, fingerprint };
  if (progress.done) return progress;
  const kept = readFileSync(dir.metrics, 'utf8').split('\n').filter((l) => l.trim()).slice(0, progress.metricsLines);
  writeFileSync(dir.metrics, kept.map((l) => `${l}\n`).join(''));
  const at = size.unit === 'epochs' ? `epoch ${progress.epoch + 1}, step ${progress.step}` : `step ${progress.step}`;
  log(`resuming ${dir.out} at ${at} of ${size.totalSteps}`);
  return progress;
}

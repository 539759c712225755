// `<out>.progress.json`: how far an interrupted `xlmt predict` got, written atomically after each chunk's output
// is on disk, so a rerun continues after the last recorded row with nothing lost or written twice.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../checkpoint/atomic.ts';
import { ONNX_DIR, ONNX_FILE } from '../infer/contract.ts';
import { XlmtError } from '../errors/index.ts';

export const progressPath = (out: string): string => `${out}.progress.json`;
export const errorsPath = (out: string): string => `${out}.errors.jsonl`;

/** Bytes hashed at the start of the input: catches an edit that keeps the size and the modification time. */
const HEAD_BYTES = 1 << 16;

const IdentitySchema = z.strictObject({
  path: z.string(),
  size: z.number().int().min(0),
  mtimeMs: z.number(),
  /** sha256 of the first 64 KiB. */
  head: z.string(),
});

export type InputIdentity = z.infer<typeof IdentitySchema>;

const count = z.number().int().min(0);

const StateSchema = z.strictObject({
  version: z.literal(1),
  input: IdentitySchema,
  /** The settings that shape the output, by flag; a resumed run must have the same. */
  settings: z.record(z.string(), z.string()),
  rowsRead: count,
  rowsWritten: count,
  rowsErrored: count,
  /** Where reading continues: just past the last row counted. */
  next: z.strictObject({ offset: count, line: z.number().int().min(1) }),
  /** Output and errors-file lengths after the last counted row: anything beyond is a partial chunk. */
  outputBytes: count,
  errorsBytes: count,
});

export type PredictState = z.infer<typeof StateSchema>;

export async function inputIdentity(file: string): Promise<InputIdentity> {
  const info = await stat(file);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, info.size));
    await handle.read(buffer, 0, buffer.length, 0);
    return { path: resolve(file), size: info.size, mtimeMs: info.mtimeMs, head: createHash('sha256').update(buffer).digest('hex') };
  } finally {
    await handle.close();
  }
}

/** The export directory and its model file's size and time: a model re-exported mid-run must not be mixed in. */
export async function modelIdentity(dir: string): Promise<string> {
  const info = await stat(join(dir, ONNX_DIR, ONNX_FILE));
  return `${resolve(dir)} (${ONNX_DIR}/${ONNX_FILE}: ${info.size} bytes, modified ${info.mtime.toISOString()})`;
}

/** The saved state for `out`, or null when there is none (a fresh run). */
export async function readState(out: string): Promise<PredictState | null> {
  const file = progressPath(out);
  if (!existsSync(file)) return null;
  const hint = 'delete it, or start over with --restart';
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new XlmtError({ code: 'BAD_PROGRESS', where: { file }, message: `unreadable progress file: ${(e as Error).message}`, hint });
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    const problem = `invalid progress file (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`;
    throw new XlmtError({ code: 'BAD_PROGRESS', where: { file }, message: problem, hint });
  }
  return parsed.data;
}

export async function saveState(out: string, state: PredictState): Promise<void> {
  await writeFileAtomic(progressPath(out), [Buffer.from(`${JSON.stringify(state, null, 2)}\n`)]);
}

/** Removes the progress file and any temporary copy a kill left behind mid-write (see writeFileAtomic). */
export async function removeState(out: string): Promise<void> {
  await rm(progressPath(out), { force: true });
  const dir = dirname(out);
  const prefix = `.${basename(progressPath(out))}.`;
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
}

/** Throws when the saved state was recorded for another input file or other settings. */
export function checkResumable(out: string, state: PredictState, input: InputIdentity, settings: Readonly<Record<string, string>>): void {
  const file = progressPath(out);
  const hint = 'rerun with the same input and options to continue, or pass --restart to start over';
  if (state.input.path !== input.path) {
    throw new XlmtError({ code: 'INPUT_CHANGED', where: { file }, message: 'the interrupted run read another input file', expected: state.input.path, received: input.path, hint });
  }
  const changed = (['size', 'mtimeMs', 'head'] as const).filter((k) => state.input[k] !== input[k]);
  if (changed.length > 0) {
    const what = changed.map((k) => (k === 'size' ? `size ${state.input.size} → ${input.size} bytes` : k === 'mtimeMs' ? 'modification time' : 'content of the first 64 KiB'));
    throw new XlmtError({ code: 'INPUT_CHANGED', where: { file }, message: `${input.path} changed since the interrupted run (${what.join(', ')})`, hint });
  }
  const keys = [...new Set([...Object.keys(state.settings), ...Object.keys(settings)])];
  const differ = keys.filter((k) => state.settings[k] !== settings[k]);
  if (differ.length > 0) {
    const what = differ.map((k) => `${k} was ${show(state.settings[k])}, now ${show(settings[k])}`).join('; ');
    throw new XlmtError({ code: 'OPTIONS_CHANGED', where: { file }, message: `the options differ from the interrupted run's: ${what}`, hint });
  }
}

function show(value: string | undefined): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

// Writing an output: the one place that decides where a command may write and how an output directory is
// replaced. Every command's --out goes through here (see docs/checkpoints.md, "Where outputs go").
//
// The rules:
// - An output may not be, contain or lie inside any input of the command (output-paths.ts: real paths and
//   (device, inode), so symlinks and hard links count).
// - An existing output directory is written only when it is empty or holds an earlier output of the same command:
//   one whose manifest (.xlmt-output.json) names the command, or, for outputs of versions that wrote no manifest,
//   one the command's marker recognizes (output-kinds.ts). Another command's output is OUT_OF_ANOTHER_COMMAND,
//   anything else OUT_NOT_EMPTY; either way nothing is touched.
// - Outputs replaced whole (export, import, baseline train) are written into a sibling this process creates,
//   `<out>.xlmt-tmp-<pid>-<hex>`, and renamed into place; the earlier output is renamed aside to
//   `<out>.xlmt-old-<pid>-<hex>` and removed only after the new one is in place. Nothing else is ever removed:
//   not `<out>.tmp` or `<out>.old`, not files a user added to an earlier output (those block the replacement).
// - After a crash, recoverDir touches only siblings named as above whose process is gone and that hold a manifest.
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { XlmtError } from '../errors/index.ts';
import { inspectOutput, MANIFEST_FILE, readManifest, writeManifest, type Found, type OutputCommand } from './output-kinds.ts';
import { checkNotInput, type InputPath, realPath } from './output-paths.ts';

export { inputsOf, type InputPath } from './output-paths.ts';
export type { OutputCommand } from './output-kinds.ts';

/** An output directory a command is about to write, and what it reads. */
export interface OutputSpec {
  readonly command: OutputCommand;
  readonly path: string;
  /** The flag that named the path, for messages (default `--out`). */
  readonly flag?: string;
  /** The output may not be, contain or lie inside any of these. */
  readonly inputs: readonly InputPath[];
}

/** A single output file (predictions, a tokenizer) and what its command reads. */
export interface OutputFileSpec {
  readonly path: string;
  readonly flag?: string;
  readonly inputs: readonly InputPath[];
}

/**
 * Refuses an output directory the command may not write, touching nothing; returns what it holds now. Commands
 * call it before long work, so that a refusal comes at once rather than after training.
 */
export function checkOutputDir(spec: OutputSpec, mode: 'replace' | 'write into' = 'replace'): Found {
  const flag = spec.flag ?? '--out';
  checkNotInput(spec.path, flag, spec.inputs);
  const found = inspectOutput(realPath(spec.path), spec.command);
  const where = { field: flag };
  switch (found.kind) {
    case 'missing':
    case 'empty':
      return found;
    case 'not a directory':
      throw new XlmtError({ code: 'BAD_OPTION', message: `${spec.path} exists and is not a directory`, where, hint: `Choose a new directory for ${flag}` });
    case 'unrelated':
      throw new XlmtError({
        code: 'OUT_NOT_EMPTY',
        message: `${spec.path} is not empty and holds no earlier output of xlmt ${spec.command}; nothing was written`,
        where,
        received: listed(found.entries),
        hint: `Choose another ${flag}, or empty ${spec.path} yourself`,
      });
    case 'output':
      if (found.command !== spec.command) {
        throw new XlmtError({
          code: 'OUT_OF_ANOTHER_COMMAND',
          message: `${spec.path} holds ${found.describe}, not an output of xlmt ${spec.command}; nothing was written`,
          where,
          expected: `an empty directory or an earlier output of xlmt ${spec.command}`,
          received: `an output of xlmt ${found.command}`,
          hint: `Choose another ${flag}`,
        });
      }
      if (mode === 'replace' && found.extra.length > 0) {
        throw new XlmtError({
          code: 'OUT_NOT_EMPTY',
          message: `${spec.path} holds an earlier output of xlmt ${spec.command} and files it did not write; replacing it would delete them`,
          where,
          received: listed(found.extra),
          hint: `Move those files out of ${spec.path}, or choose another ${flag}`,
        });
      }
      return found;
  }
}

/**
 * Takes an output directory that the command writes into in place (a training run, an experiment): checks it,
 * creates it and gives it a manifest. Existing contents stay; nothing is removed.
 */
export async function claimOutputDir(spec: OutputSpec): Promise<void> {
  const found = checkOutputDir(spec, 'write into');
  const dir = realPath(spec.path);
  await mkdir(dir, { recursive: true });
  if (found.kind !== 'output' || found.manifest === null) await writeManifest(dir, spec.command);
}

/** Writes an output directory whole: checks it, then `write` fills a new directory that replaces it (replaceDir). */
export async function writeOutputDir(spec: OutputSpec, write: (dir: string) => Promise<void>): Promise<void> {
  const target = realPath(spec.path);
  await recoverDir(target);
  checkOutputDir(spec, 'replace');
  await swapDir(target, spec.command, write);
}

/**
 * Replaces a directory atomically (readers see the old one or the new one, never a mix): `write` fills a sibling
 * made for this call, which takes the place of `target` by renames. Callers own `target`: it is a checked output
 * (writeOutputDir) or lies inside one (a run's best/ or checkpoints/last/). The new directory carries a manifest
 * for `command` listing what `write` put there.
 */
export async function replaceDir(target: string, command: OutputCommand, write: (dir: string) => Promise<void>): Promise<void> {
  await recoverDir(target);
  await swapDir(target, command, write);
}

/** replaceDir once leftovers of a crash have been recovered. */
async function swapDir(target: string, command: OutputCommand, write: (dir: string) => Promise<void>): Promise<void> {
  const tmp = sibling(target, 'tmp');
  await mkdir(dirname(target), { recursive: true });
  await mkdir(tmp);
  try {
    await writeManifest(tmp, command); // first, so that a crash leaves a sibling recoverDir knows as its own
    await write(tmp);
    await writeManifest(tmp, command, (await readdir(tmp)).filter((n) => n !== MANIFEST_FILE));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const previous = statSync(target, { throwIfNoEntry: false });
  if (!previous) {
    await rename(tmp, target);
    return;
  }
  const wasEmpty = readdirSync(target).length === 0;
  if (!wasEmpty && readManifest(target) === null) await writeManifest(target, command); // an older output: marked before it is moved aside
  const aside = sibling(target, 'old');
  await rename(target, aside);
  await rename(tmp, target);
  // An empty directory is removed only while still empty; anything else aside is the earlier output of `command`.
  if (wasEmpty) await rmdir(aside).catch(() => undefined);
  else await rm(aside, { recursive: true, force: true });
}

const LEFTOVER = /^\.xlmt-(tmp|old)-(\d+)-[0-9a-f]+$/;

function sibling(target: string, role: 'tmp' | 'old'): string {
  return `${target}.xlmt-${role}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * After a crash inside replaceDir: the earlier directory renamed back when `target` is missing, and the
 * temporary and set-aside siblings removed. Only siblings named by replaceDir, left by a process that no longer
 * runs and holding a manifest are touched.
 */
export async function recoverDir(target: string): Promise<void> {
  const parent = dirname(target);
  const prefix = basename(target);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith(prefix)).sort()) {
    const match = LEFTOVER.exec(name.slice(prefix.length));
    if (!match || running(Number(match[2]))) continue;
    const path = join(parent, name);
    if (!statSync(path, { throwIfNoEntry: false })?.isDirectory() || readManifest(path) === null) continue;
    if (match[1] === 'old' && !statSync(target, { throwIfNoEntry: false })) await rename(path, target);
    else await rm(path, { recursive: true, force: true });
  }
}

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuses a single output file (predictions, a tokenizer) that is one of the command's inputs, a link to one, or
 * lies inside an input directory; and a path that names a directory.
 */
export function checkOutputFile(spec: OutputFileSpec): void {
  const flag = spec.flag ?? '--out';
  checkNotInput(spec.path, flag, spec.inputs);
  if (statSync(spec.path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `${spec.path} is a directory; ${flag} names a file`, where: { field: flag }, hint: `Name a file in it, such as ${join(spec.path, 'predictions.jsonl')}` });
  }
}

/** checkOutputFile, then the folders above the file that are missing are created. */
export async function prepareOutputFile(spec: OutputFileSpec): Promise<void> {
  checkOutputFile(spec);
  await mkdir(dirname(realPath(spec.path)), { recursive: true });
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

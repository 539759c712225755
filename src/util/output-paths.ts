// Whether an output path is, contains or lies inside one of a command's inputs, judged on the files themselves:
// real paths (symlinks resolved) and (device, inode) pairs, so a symlink, a hard link or a bind mount of an input
// counts as the input.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { XlmtError } from '../errors/index.ts';

/** A path a command reads, with the flag that named it (for the message). */
export interface InputPath {
  readonly flag: string;
  readonly path: string;
}

export type InputRelation = 'is' | 'is inside' | 'contains';

interface FileId {
  readonly dev: number;
  readonly ino: number;
}

/** The inputs of a command from its flags; missing and empty values are left out. */
export function inputsOf(flags: Readonly<Record<string, string | readonly string[] | undefined>>): InputPath[] {
  return Object.entries(flags).flatMap(([flag, value]) => {
    const paths = value === undefined ? [] : typeof value === 'string' ? [value] : value;
    return paths.filter((path) => path !== '').map((path) => ({ flag, path }));
  });
}

/**
 * The path with every symlink resolved: the real path of its nearest existing ancestor plus the names below it
 * that do not exist yet.
 */
export function realPath(path: string): string {
  const missing: string[] = [];
  let head = resolve(path);
  for (;;) {
    try {
      return join(realpathSync.native(head), ...missing.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const parent = dirname(head);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === head) return resolve(path);
      missing.push(basename(head));
      head = parent;
    }
  }
}

function fileId(path: string): FileId | null {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? { dev: s.dev, ino: s.ino } : null;
}

/** The (device, inode) of each existing directory above the path, nearest first. */
function ancestorIds(real: string): FileId[] {
  const ids: FileId[] = [];
  for (let p = real; dirname(p) !== p;) {
    p = dirname(p);
    const id = fileId(p);
    if (id) ids.push(id);
  }
  return ids;
}

const sameId = (a: FileId | null, b: FileId | null): boolean => a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;

const within = (inner: string, outer: string): boolean => inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/** How `out` relates to `input`, or null when writing `out` cannot touch `input`. */
export function relationTo(out: string, input: string): InputRelation | null {
  const realOut = realPath(out);
  const realIn = realPath(input);
  const outId = fileId(realOut);
  const inId = fileId(realIn);
  if (realOut === realIn || sameId(outId, inId)) return 'is';
  if (within(realOut, realIn) || (inId !== null && ancestorIds(realOut).some((id) => sameId(id, inId)))) return 'is inside';
  if (within(realIn, realOut) || (outId !== null && ancestorIds(realIn).some((id) => sameId(id, outId)))) return 'contains';
  return null;
}

/** Refuses an output that is, contains or lies inside one of the inputs (OUT_IS_INPUT), naming both. */
export function checkNotInput(out: string, flag: string, inputs: readonly InputPath[]): void {
  for (const input of inputs) {
    const relation = relationTo(out, input.path);
    if (relation === null) continue;
    throw new XlmtError({
      code: 'OUT_IS_INPUT',
      message: `${out} ${relation} ${input.path}, which ${input.flag} reads; writing there would destroy the input`,
      where: { field: flag },
      received: `${flag} ${out}, ${input.flag} ${input.path}`,
      hint: `Choose a ${flag} outside the command's inputs, such as a new directory beside them`,
      details: { out, input: input.path, inputFlag: input.flag, relation },
    });
  }
}

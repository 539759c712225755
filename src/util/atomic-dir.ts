// Replaces a whole directory atomically: readers see the old directory or the new one, never a mix.
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';

/**
 * Writes `target` anew: `write` fills `<target>.tmp`, which then takes the place of `target` by renames.
 * A crash leaves either the old directory or `<target>.old` beside a complete `<target>` (see recoverDir).
 */
export async function replaceDir(target: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${target}.tmp`;
  const old = `${target}.old`;
  await rm(tmp, { recursive: true, force: true });
  await write(tmp);
  await rm(old, { recursive: true, force: true });
  if (existsSync(target)) await rename(target, old);
  await rename(tmp, target);
  await rm(old, { recursive: true, force: true });
}

/** After a crash between the two renames of replaceDir, put the previous directory back. */
export async function recoverDir(target: string): Promise<void> {
  const old = `${target}.old`;
  if (!existsSync(target) && existsSync(old)) await rename(old, target);
}

// Atomic file replacement: readers see the old file or the complete new one, never a half-written checkpoint.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `chunks` to a temporary file in the target's directory (a rename is atomic only within one file system),
 * fsyncs it, renames it over `path`, then fsyncs the directory so the rename itself survives a crash. Chunks may
 * come from an async source (a file scored chunk by chunk); if it throws, the temporary file is removed.
 */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  let renamed = false;
  try {
    for await (const chunk of chunks) await writeAll(handle, chunk);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    renamed = true;
    await syncDirectory(dir);
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

// FileHandle.write may write less than asked (and refuses over 2 GB at once), so large tensors go in slices.
const MAX_WRITE = 1 << 30;

async function writeAll(handle: Handle, chunk: Uint8Array): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const length = Math.min(MAX_WRITE, chunk.byteLength - done);
    const { bytesWritten } = await handle.write(chunk, done, length);
    done += bytesWritten;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: Handle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the file itself is already durable there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

// An output file written by whole chunks and flushed to disk before the progress file counts them; reopened
// for a resumed run, it is cut back to the length last counted, dropping a chunk a kill left half-written.
import { existsSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { XlmtError } from '../errors/index.ts';

export class AppendFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private length: number,
  ) {}

  /** A new empty file, replacing any file at `path`. */
  static async create(path: string): Promise<AppendFile> {
    return new AppendFile(path, await open(path, 'w'), 0);
  }

  /**
   * The file cut back to `length` bytes, where the last progress record left it. A file shorter than that lost
   * counted rows (deleted, or replaced by hand): continuing would leave a gap, so that is an error.
   */
  static async resume(path: string, length: number, progressFile: string): Promise<AppendFile> {
    const size = existsSync(path) ? (await stat(path)).size : -1;
    if (size < length) {
      const received = size < 0 ? 'no file' : `${size} bytes`;
      throw new XlmtError({ code: 'BAD_PROGRESS', where: { file: path }, message: `shorter than ${progressFile} records`, expected: `at least ${length} bytes`, received, hint: 'pass --restart to start over' });
    }
    const handle = await open(path, 'r+');
    await handle.truncate(length);
    await handle.sync();
    return new AppendFile(path, handle, length);
  }

  get bytes(): number {
    return this.length;
  }

  async append(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.length + done);
      done += bytesWritten;
    }
    this.length += bytes.length;
  }

  /** Written bytes reach the disk before a progress record may count them. */
  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

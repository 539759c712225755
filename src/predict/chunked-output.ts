// The three files of a run moved forward together, one chunk at a time: predictions, unscorable rows
// (`<out>.errors.jsonl`) and progress (`<out>.progress.json`). A chunk's lines reach the disk before the
// progress file counts them, so after a kill the progress file never counts a row that is not written, and a
// resumed run cuts off whatever was written after it.
import { rm } from 'node:fs/promises';
import { AppendFile } from './append-file.ts';
import type { Position } from './lines.ts';
import { errorsPath, progressPath, removeState, saveState, type PredictState } from './progress-file.ts';

export interface Chunk {
  /** Output lines of the scored rows and errors-file lines of the others, each line ending in a line break. */
  readonly output: string;
  readonly problems: string;
  readonly written: number;
  readonly errored: number;
  /** Where reading continues after the chunk. */
  readonly next: Position;
}

export class ChunkedOutput {
  private closed = false;

  private constructor(
    private readonly out: string,
    private readonly output: AppendFile,
    private errors: AppendFile | null,
    private current: PredictState,
  ) {}

  /** A fresh run: any earlier output and errors file replaced, the header written and counted. */
  static async begin(out: string, header: string, initial: PredictState): Promise<ChunkedOutput> {
    await removeState(out); // temporary copies a kill left behind
    await rm(errorsPath(out), { force: true });
    const output = await AppendFile.create(out);
    await output.append(header);
    await output.sync();
    const state = { ...initial, outputBytes: output.bytes, errorsBytes: 0 };
    await saveState(out, state);
    return new ChunkedOutput(out, output, null, state);
  }

  /** An interrupted run's files cut back to the lengths its progress file counts. */
  static async reopen(out: string, saved: PredictState): Promise<ChunkedOutput> {
    const output = await AppendFile.resume(out, saved.outputBytes, progressPath(out));
    let errors: AppendFile | null = null;
    try {
      if (saved.errorsBytes > 0) errors = await AppendFile.resume(errorsPath(out), saved.errorsBytes, progressPath(out));
      else await rm(errorsPath(out), { force: true });
    } catch (e) {
      await output.close();
      throw e;
    }
    return new ChunkedOutput(out, output, errors, saved);
  }

  get state(): PredictState {
    return this.current;
  }

  /** The errors file, when a row has gone there. */
  get errorsFile(): string | null {
    return this.current.rowsErrored > 0 ? errorsPath(this.out) : null;
  }

  async commit(chunk: Chunk): Promise<PredictState> {
    await this.output.append(chunk.output);
    if (chunk.problems !== '') {
      this.errors ??= await AppendFile.create(errorsPath(this.out));
      await this.errors.append(chunk.problems);
      await this.errors.sync();
    }
    await this.output.sync();
    const s = this.current;
    this.current = {
      ...s,
      rowsRead: s.rowsRead + chunk.written + chunk.errored,
      rowsWritten: s.rowsWritten + chunk.written,
      rowsErrored: s.rowsErrored + chunk.errored,
      next: chunk.next,
      outputBytes: this.output.bytes,
      errorsBytes: this.errors?.bytes ?? 0,
    };
    await saveState(this.out, this.current);
    return this.current;
  }

  /** The run is complete: its progress file goes. */
  async finish(): Promise<void> {
    await this.close();
    await removeState(this.out);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.output.close();
    await this.errors?.close();
  }
}

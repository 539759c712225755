// Byte offsets and line numbers of a file read as a stream: where a resumed run starts reading, and the
// file:line every message names.
import { createReadStream } from 'node:fs';
import { XlmtError } from '../errors/index.ts';

/** A place in a file: a byte offset and the 1-based line that byte is on. */
export interface Position {
  readonly offset: number;
  readonly line: number;
}

export const FILE_START: Position = { offset: 0, line: 1 };

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

export interface Line {
  /** The line decoded as UTF-8, without its line break (nor a BOM on the file's first line). */
  readonly text: string;
  readonly line: number;
  /** Where the next line starts. */
  readonly next: Position;
}

/**
 * The lines of `file` from `from` on, read in 1 MiB chunks. Lines are split on the byte 0x0a, which never
 * occurs inside a multi-byte UTF-8 character, so a character cut by a chunk boundary is decoded whole.
 */
export async function* readLines(file: string, from: Position = FILE_START): AsyncGenerator<Line> {
  const stream = createReadStream(file, { start: from.offset, highWaterMark: READ_CHUNK });
  let pending: Buffer[] = [];
  let offset = from.offset;
  let line = from.line;
  const take = (piece: Buffer, breakBytes: number): Line => {
    const bytes = pending.length > 0 ? Buffer.concat([...pending, piece]) : piece;
    pending = [];
    const next = { offset: offset + bytes.length + breakBytes, line: line + breakBytes };
    const result = { text: decode(bytes, offset === 0), line, next };
    offset = next.offset;
    line = next.line;
    return result;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
        yield take(chunk.subarray(start, nl), 1);
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) yield take(Buffer.alloc(0), 0);
  } finally {
    stream.destroy();
  }
}

function decode(bytes: Buffer, atFileStart: boolean): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === RETURN ? bytes.length - 1 : bytes.length;
  const text = bytes.toString('utf8', 0, end);
  return atFileStart && text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * Line numbers for byte offsets of a stream read forward: fed the chunks as they are read, it answers the line
 * of any later offset. Keeps only the bytes not yet passed, so memory stays at about one chunk.
 */
export class LineTracker {
  private chunks: Buffer[] = [];
  /** Absolute offset of the first byte of chunks[0]. */
  private base: number;
  private offset: number;
  private line: number;

  constructor(from: Position) {
    this.base = from.offset;
    this.offset = from.offset;
    this.line = from.line;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** The line `offset` is on; offsets must not go backwards. */
  lineAt(offset: number): number {
    while (this.offset < offset) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new XlmtError({ code: 'INTERNAL', message: `offset ${offset} is past the bytes read (${this.offset})`, where: { api: 'LineTracker' } });
      const end = Math.min(this.base + chunk.length, offset);
      for (let nl = chunk.indexOf(NEWLINE, this.offset - this.base); nl >= 0 && this.base + nl < end; nl = chunk.indexOf(NEWLINE, nl + 1)) this.line++;
      this.offset = end;
      if (end === this.base + chunk.length) {
        this.chunks.shift();
        this.base = end;
      }
    }
    return this.line;
  }

  /** The first offset at or after `offset` that is not a line break (where a record after a blank line starts). */
  skipBreaks(offset: number): number {
    let at = offset;
    for (;;) {
      const byte = this.byteAt(at);
      if (byte !== NEWLINE && byte !== RETURN) return at;
      at++;
    }
  }

  private byteAt(offset: number): number | undefined {
    let base = this.base;
    for (const chunk of this.chunks) {
      if (offset < base + chunk.length) return offset >= base ? chunk[offset - base] : undefined;
      base += chunk.length;
    }
    return undefined;
  }
}

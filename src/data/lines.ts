// Reads a text file line by line with invalid UTF-8 found, not silently replaced by U+FFFD: data files and corpora
// report it as an INVALID_UTF8 issue naming the line and byte.
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { issue, type DataIssue, type Location } from './issues.ts';

export interface TextLine {
  /** 1-based. */
  readonly line: number;
  /** The line without its line break (`\n` or `\r\n`); invalid bytes read as U+FFFD. */
  readonly text: string;
  /** The line's bytes when they are not valid UTF-8 (see invalidUtf8Issue); null for valid lines. */
  readonly invalid: Buffer | null;
}

/** Every line of `file`, the last one even without a final line break. */
export async function* readTextLines(file: string): AsyncGenerator<TextLine> {
  let rest: Buffer = Buffer.alloc(0);
  let line = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buffer = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let end = buffer.indexOf(0x0a, start); end >= 0; end = buffer.indexOf(0x0a, start)) {
      yield decodeLine(buffer.subarray(start, end), ++line);
      start = end + 1;
    }
    rest = buffer.subarray(start);
  }
  if (rest.length > 0) yield decodeLine(rest, ++line);
}

function decodeLine(raw: Buffer, line: number): TextLine {
  const bytes = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
  // isUtf8 is a native scan, far cheaper than a fatal TextDecoder's exception on the rare bad line.
  return { line, text: bytes.toString('utf8'), invalid: isUtf8(bytes) ? null : bytes };
}

/**
 * The 0-based offset of the first invalid UTF-8 sequence in `bytes`: where decoding first yields a U+FFFD that
 * the bytes do not spell (EF BF BD is a genuine U+FFFD). -1 when there is none.
 */
export function firstInvalidByte(bytes: Buffer): number {
  const text = bytes.toString('utf8');
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    const offset = Buffer.byteLength(text.slice(0, i));
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
  }
  return -1;
}

/** The INVALID_UTF8 issue for a line's bytes, naming the first bad byte (1-based, as editors count columns). */
export function invalidUtf8Issue(at: Location, bytes: Buffer): DataIssue {
  const offset = Math.max(0, firstInvalidByte(bytes));
  const shown = [...bytes.subarray(offset, offset + 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  return issue('INVALID_UTF8', at, `invalid UTF-8 at byte ${offset + 1} of the line`, {
    expected: 'UTF-8 text',
    received: `bytes ${shown}`,
    hint: 'convert the file to UTF-8 (for example iconv -f latin1 -t utf-8 file > file.utf8)',
  });
}

/** The INVALID_UTF8 issues of a whole file read at once (CSV), one per line that holds invalid bytes. */
export function invalidUtf8Issues(file: string, buffer: Buffer): DataIssue[] {
  if (isUtf8(buffer)) return [];
  const issues: DataIssue[] = [];
  let start = 0;
  for (let line = 1; start <= buffer.length; line++) {
    const end = buffer.indexOf(0x0a, start);
    const bytes = buffer.subarray(start, end < 0 ? buffer.length : end);
    if (!isUtf8(bytes)) issues.push(invalidUtf8Issue({ file, line }, bytes));
    if (end < 0) break;
    start = end + 1;
  }
  return issues;
}

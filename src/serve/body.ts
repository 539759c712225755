// JSON request bodies, read here rather than by Fastify so that each way a body can be wrong has its own code:
// one that stops short of its Content-Length (REQUEST_TIMEOUT, or REQUEST_ABORTED when the client leaves), one
// over --body-limit, bytes that are not UTF-8 (naming the first bad byte), text that is not JSON, and a
// `__proto__` key anywhere (refused rather than dropped: nothing downstream ever has to think about it).
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { ServeError } from './errors.ts';

export interface BodyLimits {
  /** Bytes. */
  readonly bodyLimit: number;
  /** How long the whole body may take to arrive once the headers have. */
  readonly timeoutMs: number;
}

/** The parsed body of a JSON request; `contentType` and `contentLength` are its headers. */
export async function readJsonBody(payload: Readable, headers: { contentType?: string | undefined; contentLength?: string | undefined }, limits: BodyLimits): Promise<unknown> {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers.contentType ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new ServeError('UNSUPPORTED_MEDIA_TYPE', `JSON bodies are UTF-8; the content-type says charset=${charset}`, { charset });
  }
  if (headers.contentLength !== undefined && Number(headers.contentLength) > limits.bodyLimit) throw tooLarge();
  const bytes = await readBytes(payload, limits);
  if (bytes.length === 0) throw new ServeError('INVALID_JSON', 'the body is empty but its content-type is application/json; send a JSON object');
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    const byte = bytes[offset] ?? 0;
    throw new ServeError('INVALID_UTF8', `the body is not valid UTF-8: byte ${offset} (0x${byte.toString(16).padStart(2, '0')}) starts no valid character; encode the texts as UTF-8`, {
      offset,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ServeError('INVALID_JSON', `the body is not valid JSON: ${(e as Error).message}`);
  }
  const forbidden = protoKeyPath(value);
  if (forbidden !== null) {
    throw new ServeError('INVALID_REQUEST', `${forbidden} is a forbidden key (it would set an object's prototype); remove it`, { field: forbidden, rule: 'forbiddenKey' });
  }
  return value;
}

function tooLarge(): ServeError {
  return new ServeError('BODY_TOO_LARGE', 'the body is larger than the server accepts; send fewer or shorter texts per request');
}

function readBytes(payload: Readable, { bodyLimit, timeoutMs }: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: ServeError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      payload.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > bodyLimit) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const aborted = (): ServeError => new ServeError('REQUEST_ABORTED', `the client closed the connection after ${size} bytes of the body`, { received: size });
    const onError = (): void => finish(aborted());
    const onClose = (): void => finish(aborted());
    const timer = setTimeout(() => {
      finish(new ServeError('REQUEST_TIMEOUT', `the body did not arrive within ${timeoutMs / 1000} s (${size} bytes received); send the whole body the Content-Length announces`, {
        received: size, timeoutMs,
      }));
    }, timeoutMs);
    payload.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The offset of the first byte that does not begin or continue a valid UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The lead byte decides the length and the allowed range of the second byte (no overlongs, surrogates or
    // code points above U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return bytes.length;
}

/** The JSON path of the first `__proto__` key in `value` (JSON.parse makes it an own property), or null. */
function protoKeyPath(value: unknown): string | null {
  // Iterative: a body can nest deeper than the call stack.
  const stack: [unknown, string][] = [[value, '$']];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        if (typeof item === 'object' && item !== null) stack.push([item, `${path}[${i}]`]);
      });
    } else if (typeof node === 'object' && node !== null) {
      if (Object.hasOwn(node, '__proto__')) return `${path}.__proto__`;
      for (const [key, item] of Object.entries(node)) {
        if (typeof item === 'object' && item !== null) stack.push([item, `${path}.${key}`]);
      }
    }
  }
  return null;
}

// The safetensors header: strict validation of what a file declares, and the reference writer's exact layout.
// Layout: u64 little-endian N, N bytes of JSON (padded with spaces), then the byte buffer the offsets index.
import { z } from 'zod';
import { DTYPE_SIZE, dtypeRank, isSafetensorsDType, SAFETENSORS_DTYPES, type SafetensorsDType } from './dtype.ts';
import { preview } from '../errors/index.ts';
import { CheckpointError, describeIssue, issuePath } from './errors.ts';
import { topLevelKeys } from './json-keys.ts';

/** The reference implementation refuses headers over 100 MB; so does this reader. */
export const MAX_HEADER_BYTES = 100_000_000;

export const METADATA_KEY = '__metadata__';

/** One tensor as the header declares it; offsets are relative to the start of the byte buffer. */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface ParsedHeader {
  readonly metadata: Readonly<Record<string, string>>;
  /** In file order (by offset). */
  readonly entries: readonly HeaderEntry[];
}

const entrySchema = z.strictObject({
  dtype: z.string(),
  shape: z.array(z.int().min(0)),
  data_offsets: z.tuple([z.int().min(0), z.int().min(0)]),
});

const metadataSchema = z.record(z.string(), z.string()).nullable();

/** N from the first 8 bytes, checked against the limit and the file's size. */
export function headerLength(prefix: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new CheckpointError({
      code: 'BAD_HEADER',
      file: source,
      problem: 'file too short for the 8-byte header length',
      expected: 'at least 8 bytes',
      received: `${fileSize} bytes`,
    });
  }
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError({
      code: 'BAD_HEADER',
      file: source,
      problem: 'header length over the limit',
      expected: `at most ${MAX_HEADER_BYTES} bytes`,
      received: `${declared} bytes`,
      hint: 'the file is probably not safetensors or is corrupt',
    });
  }
  const n = Number(declared);
  if (8 + n > fileSize) {
    throw new CheckpointError({
      code: 'BAD_HEADER',
      file: source,
      problem: 'header length runs past the end of the file',
      expected: `at most ${fileSize - 8} bytes`,
      received: `${n} bytes`,
      hint: 'the file is truncated or not safetensors',
    });
  }
  return n;
}

/** Parses and validates the header JSON against a byte buffer of `dataLength` bytes. */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, source: string): ParsedHeader {
  const text = decodeUtf8(headerBytes, source);
  if (!text.startsWith('{')) {
    throw new CheckpointError({ code: 'BAD_HEADER', file: source, problem: 'header is not a JSON object', expected: 'text starting with "{"', received: preview(text.slice(0, 20)) });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError({ code: 'BAD_HEADER', file: source, problem: `header is not valid JSON: ${(e as Error).message}` });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError({ code: 'BAD_HEADER', file: source, problem: 'header is not a JSON object', received: preview(json) });
  }
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new CheckpointError({ code: 'BAD_HEADER', file: source, tensor: key, problem: 'named more than once in the header' });
    seen.add(key);
  }
  const record = json as Record<string, unknown>;
  const metadata = parseMetadata(record[METADATA_KEY], source);
  const entries = keys.filter((k) => k !== METADATA_KEY).map((name) => parseEntry(name, record[name], dataLength, source));
  checkCoverage(entries, dataLength, source);
  return { metadata, entries };
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CheckpointError({ code: 'BAD_HEADER', file: source, problem: 'header is not valid UTF-8' });
  }
}

function parseMetadata(value: unknown, source: string): Readonly<Record<string, string>> {
  const parsed = metadataSchema.safeParse(value === undefined ? null : value, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const described = issue ? describeIssue(issue) : { problem: 'invalid' };
    const path = issue ? issuePath([METADATA_KEY, ...issue.path]) : METADATA_KEY;
    throw new CheckpointError({ code: 'BAD_HEADER', file: source, field: path, ...described, expected: described.expected ?? 'string values' });
  }
  return parsed.data ?? {};
}

function parseEntry(name: string, value: unknown, dataLength: number, source: string): HeaderEntry {
  const parsed = entrySchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const described = issue ? describeIssue(issue) : { problem: 'invalid entry' };
    const field = issue && issue.path.length > 0 ? issuePath(issue.path) : undefined;
    throw new CheckpointError({
      code: 'BAD_TENSOR',
      file: source,
      tensor: name,
      ...(field !== undefined ? { field } : {}),
      ...described,
      ...(issue?.code === 'unrecognized_keys' ? { expected: 'only dtype, shape and data_offsets' } : {}),
    });
  }
  const { dtype, shape, data_offsets: [begin, end] } = parsed.data;
  if (!isSafetensorsDType(dtype)) {
    throw new CheckpointError({
      code: 'UNSUPPORTED',
      file: source,
      tensor: name,
      problem: 'unknown or unsupported dtype',
      expected: `one of ${SAFETENSORS_DTYPES.join(', ')}`,
      received: preview(dtype),
    });
  }
  if (end < begin) {
    throw new CheckpointError({ code: 'BAD_TENSOR', file: source, tensor: name, problem: 'data_offsets end before they begin', received: `[${begin}, ${end}]` });
  }
  if (end > dataLength) {
    throw new CheckpointError({
      code: 'BAD_TENSOR',
      file: source,
      tensor: name,
      problem: 'data_offsets out of range of the byte buffer',
      expected: `end <= ${dataLength}`,
      received: `[${begin}, ${end}]`,
    });
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(bytes)) {
    throw new CheckpointError({ code: 'BAD_TENSOR', file: source, tensor: name, problem: 'shape is too large', received: `[${shape.join(', ')}]` });
  }
  if (bytes !== end - begin) {
    throw new CheckpointError({
      code: 'BAD_TENSOR',
      file: source,
      tensor: name,
      problem: `byte length does not match shape [${shape.join(', ')}] × ${dtype} (${DTYPE_SIZE[dtype]} bytes)`,
      expected: `${bytes} bytes`,
      received: `${end - begin} bytes, data_offsets [${begin}, ${end}]`,
    });
  }
  return { name, dtype, shape, begin, end };
}

/** The spec requires the tensors to tile the byte buffer exactly: no overlaps, no holes, nothing after the last. */
function checkCoverage(entries: HeaderEntry[], dataLength: number, source: string): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin < position) {
      throw new CheckpointError({
        code: 'BAD_TENSOR',
        file: source,
        tensor: e.name,
        problem: `data_offsets overlap tensor ${JSON.stringify(previous?.name)}`,
        expected: `begin >= ${position}`,
        received: `[${e.begin}, ${e.end}]`,
      });
    }
    if (e.begin > position) {
      throw new CheckpointError({
        code: 'BAD_TENSOR',
        file: source,
        tensor: e.name,
        problem: `bytes ${position}..${e.begin} of the buffer belong to no tensor (offsets must be contiguous)`,
        expected: `begin = ${position}`,
        received: `[${e.begin}, ${e.end}]`,
      });
    }
    position = e.end;
    previous = e;
  }
  if (position !== dataLength) {
    throw new CheckpointError({
      code: 'BAD_HEADER',
      file: source,
      problem: `bytes ${position}..${dataLength} of the buffer belong to no tensor (the tensors must cover the whole buffer)`,
      expected: `tensors ending at byte ${dataLength}`,
      received: `tensors ending at byte ${position}`,
    });
  }
}

/** What the writer needs of each tensor. */
export interface HeaderInput {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
}

export interface SerializedHeader {
  /** The 8-byte length followed by the padded JSON: everything before the byte buffer. */
  readonly bytes: Uint8Array;
  /** Order of the tensors' bytes in the buffer, as the offsets say. */
  readonly order: readonly HeaderEntry[];
}

/**
 * The reference writer's header: tensors by descending dtype rank, then name (UTF-8 byte order), packed with no
 * gaps; `__metadata__` first; JSON padded with spaces to a multiple of 8 so the buffer starts 8-byte aligned.
 */
export function serializeHeader(tensors: readonly HeaderInput[], metadata: Readonly<Record<string, string>> | undefined): SerializedHeader {
  const sorted = [...tensors].sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const order: HeaderEntry[] = [];
  const fields: string[] = [];
  if (metadata !== undefined) {
    const sortedMeta = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(sortedMeta)}`);
  }
  let offset = 0;
  for (const t of sorted) {
    const end = offset + t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    order.push({ name: t.name, dtype: t.dtype, shape: t.shape, begin: offset, end });
    fields.push(`${JSON.stringify(t.name)}:{"dtype":${JSON.stringify(t.dtype)},"shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = json.byteLength + ((8 - (json.byteLength % 8)) % 8);
  const bytes = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return { bytes, order };
}

// Reading and writing safetensors files: one read of the byte buffer, tensors as views into it (float tensors
// checked for NaN and Inf), atomic writes.
import { open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.ts';
import { assertLittleEndian, DTYPE_SIZE, firstNonFinite, floatAt, type SafetensorsDType } from './dtype.ts';
import { CheckpointError, readFailure } from './errors.ts';
import { headerLength, MAX_HEADER_BYTES, type ParsedHeader, parseHeader, serializeHeader } from './safetensors-header.ts';

/** A tensor's raw little-endian bytes, row-major. `bytes` is usually a view into the whole file's buffer. */
export interface SafeTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** The path (or label) errors name. */
  readonly source: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** In file order. */
  readonly tensors: ReadonlyMap<string, SafeTensor>;
}

// Typed arrays in Node 20 hold at most 4 GiB; larger checkpoints come sharded (model.safetensors.index.json).
const MAX_BUFFER = 2 ** 32;
// fs reads refuse more than 2 GiB per call.
const MAX_READ = 1 << 30;

/**
 * Reads a safetensors file: validates the header first (so a corrupt file costs no large read), then reads the
 * byte buffer once into a fresh ArrayBuffer. Tensors are views into it: an F32 tensor whose offset is a multiple
 * of 4 (always, from the reference writer) can become a Float32Array with no copy. A float tensor holding NaN or
 * Inf is refused (NON_FINITE, naming the tensor and the element), so a diverged model fails here and not as
 * NaN scores much later.
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const handle = await openForRead(path);
  try {
    const { size } = await handle.stat();
    const prefix = new Uint8Array(8);
    await readFully(handle, prefix, 0, path);
    const n = headerLength(prefix, size, path);
    const headerBytes = new Uint8Array(n);
    await readFully(handle, headerBytes, 8, path);
    const dataLength = size - 8 - n;
    const header = parseHeader(headerBytes, dataLength, path);
    if (dataLength > MAX_BUFFER) {
      throw new CheckpointError({
        code: 'UNSUPPORTED',
        file: path,
        problem: 'byte buffer too large to hold in one typed array',
        expected: `at most ${MAX_BUFFER} bytes`,
        received: `${dataLength} bytes`,
        hint: 'save the checkpoint in shards (model.safetensors.index.json)',
      });
    }
    const data = new Uint8Array(dataLength);
    await readFully(handle, data, 8 + n, path);
    return { source: path, metadata: header.metadata, tensors: attach(header, data, path) };
  } finally {
    await handle.close();
  }
}

/** Parses a whole safetensors file held in memory; `source` names it in errors. Tensors are views into `bytes`. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const n = headerLength(bytes, bytes.byteLength, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  return { source, metadata: header.metadata, tensors: attach(header, bytes.subarray(8 + n), source) };
}

function attach(header: ParsedHeader, data: Uint8Array, source: string): Map<string, SafeTensor> {
  const tensors = new Map<string, SafeTensor>();
  for (const e of header.entries) {
    const tensor = { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) };
    checkFinite(tensor, e.name, source);
    tensors.set(e.name, tensor);
  }
  return tensors;
}

function checkFinite(tensor: SafeTensor, name: string, source: string): void {
  const index = firstNonFinite(tensor.dtype, tensor.bytes);
  if (index < 0) return;
  const value = floatAt(tensor.dtype, tensor.bytes, index);
  const element = unravel(index, tensor.shape);
  throw new CheckpointError({
    code: 'NON_FINITE',
    file: source,
    tensor: name,
    problem: `element [${element.join(', ')}] is ${value}${tensor.dtype === 'F64' && Number.isFinite(value) ? ' (beyond float32\'s range)' : ''}`,
    expected: 'finite weights',
    received: `${value} at flat index ${index} of ${tensor.bytes.byteLength / DTYPE_SIZE[tensor.dtype]}`,
    hint: 'the checkpoint was saved from a model that diverged or was corrupted: use an earlier checkpoint, or retrain (a lower --lr helps)',
    details: { index, element, value: String(value) },
  });
}

/** Row-major flat index → per-axis index. */
function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis]!;
    out[axis] = rest % size;
    rest = Math.floor(rest / size);
  }
  return out;
}

async function openForRead(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw readFailure(path, 'open', e);
  }
}

async function readFully(handle: Awaited<ReturnType<typeof open>>, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(MAX_READ, target.byteLength - done);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    // The size came from fstat a moment ago: a short read means the file shrank while being read.
    if (bytesRead === 0) throw new CheckpointError({ code: 'IO_FAILED', file: path, problem: `file ended after ${position + done} bytes while reading; was it modified during the read?` });
    done += bytesRead;
  }
}

/** A tensor over a Float32Array's own memory (no copy). */
export function float32Tensor(data: Float32Array, shape: readonly number[]): SafeTensor {
  assertLittleEndian('float32Tensor');
  return { dtype: 'F32', shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export type TensorEntries = Iterable<readonly [string, SafeTensor]>;

/** Header and tensor bytes in file order, checked; writing them one after another yields the file. */
function layout(tensors: TensorEntries, metadata: Readonly<Record<string, string>> | undefined, target: string): Uint8Array[] {
  const byName = new Map<string, SafeTensor>();
  for (const [name, t] of tensors) {
    if (byName.has(name)) throw new CheckpointError({ code: 'BAD_ARGUMENT', file: target, tensor: name, problem: 'given twice' });
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.bytes.byteLength !== expected) {
      throw new CheckpointError({
        code: 'BAD_ARGUMENT',
        file: target,
        tensor: name,
        problem: `bytes do not match shape [${t.shape.join(', ')}] × ${t.dtype}`,
        expected: `${expected} bytes`,
        received: `${t.bytes.byteLength} bytes`,
      });
    }
    byName.set(name, t);
  }
  const header = serializeHeader([...byName].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), metadata);
  if (header.bytes.byteLength - 8 > MAX_HEADER_BYTES) {
    throw new CheckpointError({ code: 'BAD_ARGUMENT', file: target, problem: 'header over the limit', expected: `at most ${MAX_HEADER_BYTES} bytes`, received: `${header.bytes.byteLength - 8} bytes` });
  }
  const chunks = [header.bytes];
  for (const e of header.order) {
    const t = byName.get(e.name);
    if (t) chunks.push(t.bytes);
  }
  return chunks;
}

/** The whole file in memory, exactly as writeSafetensors writes it. */
export function serializeSafetensors(tensors: TensorEntries, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const chunks = layout(tensors, metadata, '<memory>');
  const file = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    file.set(c, offset);
    offset += c.byteLength;
  }
  return file;
}

/**
 * Writes tensors in the reference writer's layout (deterministic: same tensors, same bytes), atomically.
 * Tensor bytes go straight from their arrays to the file, with no intermediate copy.
 */
export async function writeSafetensors(path: string, tensors: TensorEntries, metadata?: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomic(path, layout(tensors, metadata, path));
}

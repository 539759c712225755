// safetensors writing (the reference writer's exact bytes), reading, zero-copy views and atomic replacement.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  float32Tensor,
  parseSafetensors,
  readSafetensors,
  type SafeTensor,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
} from '../../src/checkpoint/index.ts';
import { craft, f32Bytes, tempDir, u16Bytes, writeBytes } from './helpers.ts';

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const headerText = (file: Uint8Array): string => {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return utf8(file.subarray(8, 8 + n));
};
const tensor = (dtype: SafeTensor['dtype'], shape: number[], bytes: number[]): SafeTensor => ({ dtype, shape, bytes: Uint8Array.from(bytes) });

describe('serializeSafetensors', () => {
  // The cases of the reference implementation's own serialization tests (safetensors/src/tensor.rs).
  it('writes a 64-byte header unpadded, then the data', () => {
    const out = serializeSafetensors([['attn.0', float32Tensor(Float32Array.from([0, 1, 2, 3, 4, 5]), [1, 2, 3])]]);
    const expected = craft('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', f32Bytes([0, 1, 2, 3, 4, 5]));
    expect(expected.byteLength).toBe(8 + 64 + 24);
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it('pads the header with spaces to a multiple of 8 so the data starts aligned', () => {
    const out = serializeSafetensors([['attn0', float32Tensor(Float32Array.from([0, 1, 2, 3, 4, 5]), [1, 1, 2, 3])]]);
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    expect(Array.from(out)).toEqual(Array.from(craft(`${json}       `, f32Bytes([0, 1, 2, 3, 4, 5]))));
  });

  it('writes an empty file as {} and six spaces, and metadata first', () => {
    expect(Array.from(serializeSafetensors([]))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{}      ')]);
    const withMeta = serializeSafetensors([], { framework: 'pt' });
    expect(Array.from(withMeta)).toEqual([40, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]);
  });

  it('orders tensors by descending dtype alignment, then by name', () => {
    const out = serializeSafetensors(
      [
        ['b', tensor('U8', [3], [1, 2, 3])],
        ['a', float32Tensor(Float32Array.from([1, 2]), [2])],
        ['c', tensor('F64', [1], [0, 0, 0, 0, 0, 0, 0xf0, 0x3f])],
        ['e', tensor('F16', [1], u16Bytes([0x3c00]))],
        ['d', tensor('F16', [1], u16Bytes([0xc000]))],
      ],
      { z: '1', format: 'pt' },
    );
    expect(headerText(out).trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","z":"1"},' +
        '"c":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
        '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
        '"d":{"dtype":"F16","shape":[1],"data_offsets":[16,18]},' +
        '"e":{"dtype":"F16","shape":[1],"data_offsets":[18,20]},' +
        '"b":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}}',
    );
    const data = out.subarray(out.byteLength - 23);
    expect(Array.from(data)).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, ...f32Bytes([1, 2]), 0x00, 0xc0, 0x00, 0x3c, 1, 2, 3]);
  });

  it('refuses bytes that do not match the shape, and repeated names', () => {
    expect(() => serializeSafetensors([['w', tensor('F32', [2], [0, 0, 0, 0])]])).toThrow(
      '<memory>: tensor "w": bytes do not match shape [2] × F32 (expected 8 bytes; received 4 bytes)',
    );
    const t = tensor('U8', [1], [7]);
    expect(() => serializeSafetensors([['w', t], ['w', t]])).toThrow('<memory>: tensor "w": given twice');
  });
});

describe('readSafetensors', () => {
  it('round-trips bytes and values exactly, including scalars and empty tensors', async () => {
    const dir = await tempDir();
    const path = join(dir, 'model.safetensors');
    const tensors: [string, SafeTensor][] = [
      ['weight', float32Tensor(Float32Array.from([0.1, -2.5, 3e-8, 65504]), [2, 2])],
      ['half', tensor('BF16', [2], u16Bytes([0x3f80, 0xc049]))],
      ['ids', tensor('I64', [2], [1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['scalar', float32Tensor(Float32Array.from([7]), [])],
      ['empty', tensor('F32', [0, 3], [])],
      ['mask', tensor('BOOL', [3], [1, 0, 1])],
    ];
    await writeSafetensors(path, tensors, { format: 'pt' });
    const file = await readSafetensors(path);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].sort()).toEqual(['empty', 'half', 'ids', 'mask', 'scalar', 'weight']);
    for (const [name, t] of tensors) {
      const read = file.tensors.get(name);
      expect(read?.dtype).toBe(t.dtype);
      expect(read?.shape).toEqual(t.shape);
      expect(Array.from(read?.bytes ?? [])).toEqual(Array.from(t.bytes));
    }
    expect(Array.from(toFloat32('F32', file.tensors.get('weight')?.bytes ?? new Uint8Array()).data)).toEqual([
      Math.fround(0.1),
      -2.5,
      Math.fround(3e-8),
      65504,
    ]);
    expect(Array.from(new BigInt64Array(file.tensors.get('ids')?.bytes.slice().buffer ?? new ArrayBuffer(0)))).toEqual([1n, -1n]);
    // Writing what was read gives the same file, byte for byte.
    const again = join(dir, 'again.safetensors');
    await writeSafetensors(again, file.tensors, file.metadata);
    expect(Buffer.compare(await readFile(path), await readFile(again))).toBe(0);
  });

  it('returns aligned F32 tensors that become Float32Arrays without a copy', async () => {
    const dir = await tempDir();
    const path = join(dir, 'w.safetensors');
    await writeSafetensors(path, [
      ['a', tensor('U8', [3], [1, 2, 3])],
      ['b', float32Tensor(Float32Array.from([1, 2, 3]), [3])],
    ]);
    const b = (await readSafetensors(path)).tensors.get('b');
    if (!b) throw new Error('tensor b not read');
    expect(b.bytes.byteOffset % 4).toBe(0);
    const { data, shared } = toFloat32(b.dtype, b.bytes);
    expect(shared).toBe(true);
    expect(data.buffer).toBe(b.bytes.buffer);
    expect(Array.from(data)).toEqual([1, 2, 3]);
  });

  it('copies an F32 tensor that another writer left misaligned', async () => {
    const dir = await tempDir();
    const header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const path = await writeBytes(dir, 'odd.safetensors', craft(header, [9, ...f32Bytes([0.5, -4])]));
    const b = (await readSafetensors(path)).tensors.get('b');
    if (!b) throw new Error('tensor b not read');
    const { data, shared } = toFloat32(b.dtype, b.bytes);
    expect(shared).toBe(false);
    expect(Array.from(data)).toEqual([0.5, -4]);
  });

  it('names the file when it does not exist', async () => {
    const dir = await tempDir();
    const error = await readSafetensors(join(dir, 'nope.safetensors')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('FILE_NOT_FOUND');
    expect((error as CheckpointError).message).toContain(`${join(dir, 'nope.safetensors')}: cannot open: ENOENT`);
  });

  it('parses in-memory files the same way', () => {
    const file = parseSafetensors(craft('{"x":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}', [0xff, 5]), 'mem');
    expect(file.source).toBe('mem');
    expect(file.metadata).toEqual({});
    expect(Array.from(new Int8Array(file.tensors.get('x')?.bytes.slice().buffer ?? new ArrayBuffer(0)))).toEqual([-1, 5]);
  });
});

describe('writeSafetensors', () => {
  it('replaces an existing file and leaves no temporary file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, [['w', float32Tensor(Float32Array.from([1]), [1])]]);
    await writeSafetensors(path, [['w', float32Tensor(Float32Array.from([2, 3]), [2])]]);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const w = (await readSafetensors(path)).tensors.get('w');
    expect(Array.from(toFloat32('F32', w?.bytes ?? new Uint8Array()).data)).toEqual([2, 3]);
  });

  it('creates nothing when the tensors are invalid', async () => {
    const dir = await tempDir();
    const path = join(dir, 'model.safetensors');
    await expect(writeSafetensors(path, [['w', tensor('F32', [3], [0, 0, 0, 0])]])).rejects.toThrow(
      `${path}: tensor "w": bytes do not match shape [3] × F32 (expected 12 bytes; received 4 bytes)`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes the file size the header promises', async () => {
    const dir = await tempDir();
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, [['w', float32Tensor(new Float32Array(1000), [10, 100])]]);
    const n = Number((await readFile(path)).readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect((await stat(path)).size).toBe(8 + n + 4000);
  });
});

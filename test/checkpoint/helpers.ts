// Test helpers: temporary directories and safetensors files built byte by byte.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];

/** A fresh directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xlmt-checkpoint-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A u64 little-endian length, the header text as given (no padding), then the data bytes. */
export function craft(header: string, data: Iterable<number> = [], declaredLength?: number | bigint): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const bytes = [...data];
  const out = new Uint8Array(8 + json.byteLength + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.byteLength), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.byteLength);
  return out;
}

export async function writeBytes(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: readonly number[]): number[] {
  return [...new Uint8Array(Float32Array.from(values).buffer)];
}

/** Little-endian bytes of 16-bit words (F16/BF16 bit patterns). */
export function u16Bytes(words: readonly number[]): number[] {
  return words.flatMap((w) => [w & 0xff, w >> 8]);
}

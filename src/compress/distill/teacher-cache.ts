// A teacher's logits over a fixed transfer set, kept on disk so later epochs and runs reuse them. One safetensors
// file per teacher, `teacher-<fingerprint, 16 hex>.safetensors` in the cache directory, holding:
//   text_sha256      U8  [rows, 32]     each row's text, hashed (the key, with the teacher's fingerprint)
//   logits:<task>    F16 [rows, labels] per task of the teacher
// and in its metadata the format, the teacher's full fingerprint and its tasks with their labels. float16 halves the
// size of float32 and keeps about 3 significant digits, well inside what a temperature-softened KL notices; values
// are rounded when stored, so the logits served in the epoch that computed them equal those read back later.
// Written whole and atomically (writeSafetensors): a reader sees the old file or the new one.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { floatToHalf, readSafetensors, toFloat32, writeSafetensors, type SafeTensor } from '../../checkpoint/index.ts';
import { XlmtError } from '../../errors/index.ts';
import type { TaskHead } from '../../models/heads.ts';

export const TEACHER_CACHE_FORMAT = 'xlmt-teacher-cache';
const VERSION = '1';
const KEY_TENSOR = 'text_sha256';
const KEY_BYTES = 32;
const logitsTensor = (task: string): string => `logits:${task}`;
/** The largest finite float16: larger logits are stored as it (their softmax is already one-hot in float32). */
const HALF_MAX = 65504;

/** What a cache, or a teacher file read as one, answers: a text's logits per task, if it has them. */
export interface TeacherLogitsSource {
  readonly tasks: readonly TaskHead[];
  /** Logits [labels] per task scored for the text; undefined when the text is not there. */
  lookup(text: string): ReadonlyMap<string, Float32Array> | undefined;
}

/** The teacher a cache belongs to. */
export interface CacheOwner {
  readonly fingerprint: string;
  readonly tasks: readonly TaskHead[];
}

export function teacherCacheFile(dir: string, fingerprint: string): string {
  return join(dir, `teacher-${fingerprint.slice(0, 16)}.safetensors`);
}

/** The key of a text: sha256 of its UTF-8 bytes. */
export function textKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class TeacherCache implements TeacherLogitsSource {
  /** Text key → the row's halves, every task's labels one after another in task order. */
  private readonly rows = new Map<string, Uint16Array>();
  private unsaved = 0;

  private constructor(
    readonly file: string,
    readonly owner: CacheOwner,
  ) {}

  get tasks(): readonly TaskHead[] {
    return this.owner.tasks;
  }

  /** Rows held. */
  get size(): number {
    return this.rows.size;
  }

  /** Rows stored since the cache was opened or last saved. */
  get pending(): number {
    return this.unsaved;
  }

  /** The cache of `owner` in `dir`: read when its file exists, empty otherwise. */
  static async open(dir: string, owner: CacheOwner): Promise<TeacherCache> {
    const cache = new TeacherCache(teacherCacheFile(dir, owner.fingerprint), owner);
    if (existsSync(cache.file)) await cache.read();
    return cache;
  }

  has(text: string): boolean {
    return this.rows.has(textKey(text));
  }

  lookup(text: string): ReadonlyMap<string, Float32Array> | undefined {
    const halves = this.rows.get(textKey(text));
    if (!halves) return undefined;
    const values = toFloat32('F16', new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength)).data;
    const out = new Map<string, Float32Array>();
    let offset = 0;
    for (const task of this.owner.tasks) {
      out.set(task.name, values.subarray(offset, offset + task.labels.length));
      offset += task.labels.length;
    }
    return out;
  }

  /** Stores a text's logits (every task of the teacher), rounded to float16; returns them as stored. */
  store(text: string, logits: ReadonlyMap<string, ArrayLike<number>>): ReadonlyMap<string, Float32Array> {
    const halves = new Uint16Array(this.owner.tasks.reduce((n, t) => n + t.labels.length, 0));
    let offset = 0;
    for (const task of this.owner.tasks) {
      const row = logits.get(task.name);
      if (!row || row.length !== task.labels.length) {
        throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'TeacherCache.store', task: task.name }, message: 'no logits of the task\'s width for this text', expected: `${task.labels.length} logits`, received: row ? `${row.length}` : 'none' });
      }
      for (let j = 0; j < row.length; j++) {
        const v = row[j] as number;
        if (Number.isNaN(v)) throw new XlmtError({ code: 'NON_FINITE', where: { file: this.file, task: task.name }, message: `the logit of ${JSON.stringify(task.labels[j])} is NaN`, expected: 'finite logits' });
        halves[offset + j] = floatToHalf(Math.min(Math.max(v, -HALF_MAX), HALF_MAX));
      }
      offset += task.labels.length;
    }
    const key = textKey(text);
    if (!this.rows.has(key)) this.unsaved++;
    this.rows.set(key, halves);
    return this.lookup(text) as ReadonlyMap<string, Float32Array>;
  }

  /** Writes the whole cache (when anything was stored since it was read), atomically. */
  async save(): Promise<void> {
    if (this.unsaved === 0) return;
    const keys = [...this.rows.keys()];
    const keyBytes = new Uint8Array(keys.length * KEY_BYTES);
    keys.forEach((key, r) => keyBytes.set(Buffer.from(key, 'hex'), r * KEY_BYTES));
    const tensors: [string, SafeTensor][] = [[KEY_TENSOR, { dtype: 'U8', shape: [keys.length, KEY_BYTES], bytes: keyBytes }]];
    let offset = 0;
    for (const task of this.owner.tasks) {
      const width = task.labels.length;
      const column = new Uint16Array(keys.length * width);
      keys.forEach((key, r) => column.set((this.rows.get(key) as Uint16Array).subarray(offset, offset + width), r * width));
      tensors.push([logitsTensor(task.name), { dtype: 'F16', shape: [keys.length, width], bytes: new Uint8Array(column.buffer) }]);
      offset += width;
    }
    await mkdir(dirname(this.file), { recursive: true });
    await writeSafetensors(this.file, tensors, this.metadata());
    this.unsaved = 0;
  }

  private metadata(): Record<string, string> {
    return {
      format: TEACHER_CACHE_FORMAT,
      version: VERSION,
      teacher: this.owner.fingerprint,
      tasks: JSON.stringify(this.owner.tasks.map((t) => ({ name: t.name, type: t.type, labels: t.labels }))),
    };
  }

  private async read(): Promise<void> {
    const file = await readSafetensors(this.file).catch((e: unknown) => {
      throw this.invalid(`cannot read it: ${(e as Error).message}`, 'a safetensors file written by a teacher cache', undefined, e);
    });
    const expected = this.metadata();
    if (file.metadata['format'] !== TEACHER_CACHE_FORMAT || file.metadata['version'] !== VERSION) {
      throw this.invalid('not a teacher cache of this version', `metadata format ${TEACHER_CACHE_FORMAT}, version ${VERSION}`, `format ${file.metadata['format'] ?? 'none'}, version ${file.metadata['version'] ?? 'none'}`);
    }
    if (file.metadata['teacher'] !== expected['teacher']) throw this.invalid('it holds another teacher\'s outputs', `teacher ${expected['teacher']}`, `teacher ${file.metadata['teacher'] ?? 'none'}`);
    if (file.metadata['tasks'] !== expected['tasks']) throw this.invalid('its tasks or labels are not the teacher\'s', expected['tasks'], file.metadata['tasks']);
    const keys = file.tensors.get(KEY_TENSOR);
    if (!keys || keys.dtype !== 'U8' || keys.shape.length !== 2 || keys.shape[1] !== KEY_BYTES) throw this.invalid(`no ${KEY_TENSOR} tensor of U8 [rows, ${KEY_BYTES}]`);
    const rows = keys.shape[0] as number;
    const columns = this.owner.tasks.map((task) => {
      const t = file.tensors.get(logitsTensor(task.name));
      const width = task.labels.length;
      if (!t || t.dtype !== 'F16' || t.shape[0] !== rows || t.shape[1] !== width || t.shape.length !== 2) {
        throw this.invalid(`no ${logitsTensor(task.name)} tensor of F16 [${rows}, ${width}]`, undefined, t ? `${t.dtype} [${t.shape.join(', ')}]` : 'none');
      }
      return { width, halves: new Uint16Array(Uint8Array.from(t.bytes).buffer) };
    });
    const total = columns.reduce((n, c) => n + c.width, 0);
    for (let r = 0; r < rows; r++) {
      const row = new Uint16Array(total);
      let offset = 0;
      for (const { width, halves } of columns) {
        row.set(halves.subarray(r * width, (r + 1) * width), offset);
        offset += width;
      }
      this.rows.set(Buffer.from(keys.bytes.subarray(r * KEY_BYTES, (r + 1) * KEY_BYTES)).toString('hex'), row);
    }
  }

  private invalid(message: string, expected?: string, received?: string, cause?: unknown): XlmtError {
    return new XlmtError({
      code: 'TEACHER_CACHE_INVALID',
      where: { file: this.file },
      message,
      ...(expected === undefined ? {} : { expected }),
      ...(received === undefined ? {} : { received }),
      hint: 'a cache file is only ever written by its teacher: give another cache directory, or move this file away so it is computed again',
    }, cause === undefined ? undefined : { cause });
  }
}

// A teacher's logits for texts through its cache: rows the cache holds are read, the others computed in batches of
// similar length, stored (rounded to float16) and served as stored, so every epoch sees the same targets.
import { XlmtError } from '../../errors/index.ts';
import type { LogitsTeacher } from './teacher.ts';
import type { TeacherCache } from './teacher-cache.ts';

export interface CachedLogits {
  /** [texts, labels] per task of the teacher, rows in the order of the texts. */
  readonly logits: Map<string, Float32Array>;
  /** Texts found in the cache. */
  readonly hits: number;
  /** Distinct texts the teacher ran on. */
  readonly computed: number;
}

export interface CachedLogitsOptions {
  /** Texts per forward pass of the teacher (default 32). */
  readonly batchSize?: number;
}

export async function cachedTeacherLogits(teacher: LogitsTeacher, cache: TeacherCache, texts: readonly string[], options: CachedLogitsOptions = {}): Promise<CachedLogits> {
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'cachedTeacherLogits', field: 'batchSize' }, message: 'not a batch size', expected: 'an integer > 0', received: String(batchSize) });
  }
  const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
  const hits = texts.filter((text) => cache.has(text)).length;
  // Sorting by characters groups texts of similar token counts well enough that padding costs little.
  missing.sort((a, b) => a.length - b.length);
  for (let start = 0; start < missing.length; start += batchSize) {
    const batch = missing.slice(start, start + batchSize);
    const logits = await teacher.logits(batch);
    batch.forEach((text, row) => {
      cache.store(text, new Map(cache.tasks.map((task) => {
        const width = task.labels.length;
        const all = logits.get(task.name);
        if (!all) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'cachedTeacherLogits', task: task.name }, message: 'the teacher gives no logits for a task of its cache', expected: 'the teacher the cache was opened for' });
        return [task.name, all.subarray(row * width, (row + 1) * width)];
      })));
    });
  }
  const logits = new Map(cache.tasks.map((task) => [task.name, new Float32Array(texts.length * task.labels.length)]));
  texts.forEach((text, row) => {
    const cached = cache.lookup(text) as ReadonlyMap<string, Float32Array>;
    for (const task of cache.tasks) (logits.get(task.name) as Float32Array).set(cached.get(task.name) as Float32Array, row * task.labels.length);
  });
  return { logits, hits, computed: missing.length };
}

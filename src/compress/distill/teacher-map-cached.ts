// A teacher map whose teachers answer through their caches (`--teacher-cache DIR`): each teacher's logits for a
// batch are read where its cache holds the text and computed (then stored, rounded to float16) where it does not,
// so a text costs one forward pass over every epoch and every run that shares the directory. The caches are saved
// at every epoch's end and when the run ends, however it ends; a kill loses at most an epoch's new rows, which are
// computed again to the same values.
import { cachedTeacherLogits } from './teacher-cached.ts';
import { TeacherCache } from './teacher-cache.ts';
import type { LogitsTeacher, OnlineTeacher, TeacherBatch } from './teacher.ts';
import { type LoadedTeacherMap, TeacherMap } from './teacher-map.ts';

export interface CachedTeacherMap {
  readonly map: TeacherMap;
  /** Writes every cache's new rows. */
  save(): Promise<void>;
  /** Rows served from the caches and rows the teachers ran on, since opening. */
  counts(): { readonly hits: number; readonly computed: number; readonly files: readonly string[] };
}

const textsOf = (batch: TeacherBatch | readonly string[]): readonly string[] => ('texts' in batch ? batch.texts : batch);

export async function cachedTeacherMap(loaded: LoadedTeacherMap, dir: string): Promise<CachedTeacherMap> {
  let hits = 0;
  let computed = 0;
  const caches: TeacherCache[] = [];
  const wrapped = new Map<OnlineTeacher, LogitsTeacher>();
  for (const teacher of loaded.teachers) {
    const cache = await TeacherCache.open(dir, teacher);
    caches.push(cache);
    wrapped.set(teacher, {
      tasks: teacher.tasks,
      logits: async (batch) => {
        const result = await cachedTeacherLogits(teacher, cache, textsOf(batch));
        hits += result.hits;
        computed += result.computed;
        return result.logits;
      },
    });
  }
  const byTask = new Map([...loaded.byTask].map(([task, teachers]) => [task, teachers.map((t) => wrapped.get(t) as LogitsTeacher)]));
  return {
    map: new TeacherMap(byTask, loaded.student),
    save: async () => {
      for (const cache of caches) await cache.save();
    },
    counts: () => ({ hits, computed, files: caches.map((c) => c.file) }),
  };
}

// Out-of-fold models of a baseline (`xlmt baseline train --folds K`): K more fits, fold k's on every labeled row
// whose text is not in fold k. A text's fold is the CRC-32 of its UTF-8 bytes mod K, so it depends on the text
// alone: the same text is in the same fold in any file, and a model never scores a text it was fitted on when the
// text's own fold model scores it. A baseline teacher answers each text with its fold's model
// (src/compress/distill/teacher-baseline.ts): on its own training rows as honestly as on new ones, where the full
// model's outputs would be close to the gold labels. Scored the same way, the training rows give the fit's
// cross-validated quality (`xlmt baseline eval --out-of-fold`).
import { crc32 } from './crc32.ts';
import type { BaselineModel } from './model.ts';

/** The fold of `text` among `count`. */
export function foldOf(text: string, count: number): number {
  return crc32(text) % count;
}

/**
 * Each task's outputs [texts, labels] for `texts`, every text scored by its fold's model (`folds[k]` is fold k's),
 * in the order of `texts`: the linear scores (`logits`) or the probabilities (`probabilities`).
 */
export function scoreOutOfFold(folds: readonly BaselineModel[], texts: readonly string[], output: 'logits' | 'probabilities'): Map<string, Float32Array> {
  const tasks = (folds[0] as BaselineModel).schema.tasks;
  const out = new Map(tasks.map((t) => [t.name, new Float32Array(texts.length * t.labels.length)]));
  const rowsOf = folds.map(() => [] as number[]);
  texts.forEach((text, i) => rowsOf[foldOf(text, folds.length)]?.push(i));
  rowsOf.forEach((rows, k) => {
    if (rows.length === 0) return;
    const model = folds[k] as BaselineModel;
    const counts = model.counts(rows.map((i) => texts[i] as string));
    for (const t of tasks) {
      const width = t.labels.length;
      const scores = output === 'logits' ? model.logits(counts, t.name) : model.score(counts, t.name);
      const target = out.get(t.name) as Float32Array;
      rows.forEach((row, r) => target.set(scores.subarray(r * width, (r + 1) * width), row * width));
    }
  });
  return out;
}

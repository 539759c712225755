// Out-of-fold models of a baseline (`xlmt baseline train --folds K`): K more fits, fold k's on every labeled row
// whose text is not in fold k. A text's fold is the CRC-32 of its UTF-8 bytes mod K, so it depends on the text
// alone: the same text is in the same fold in any file, and a model never scores a text it was fitted on when the
// text's own fold model scores it. A baseline teacher answers each text with its fold's model
// (src/compress/distill/teacher-baseline.ts): on its own training rows as honestly as on new ones, where the full
// model's outputs would be close to the gold labels.
import { crc32 } from './crc32.ts';

/** The fold of `text` among `count`. */
export function foldOf(text: string, count: number): number {
  return crc32(text) % count;
}

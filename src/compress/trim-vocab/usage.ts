// How often the corpus uses each token, and which scripts it is written in: one pass of the original tokenizer
// over every text of the corpus files.
import { readCorpusLines } from '../../tokenize/corpus.ts';
import { TokenizerError } from '../../tokenize/errors.ts';
import type { TextTokenizer } from '../../tokenize/index.ts';
import { ScriptSet } from './scripts.ts';

/** Texts tokenized per call of the tokenizers binding (it encodes a batch in parallel). */
export const CHUNK = 512;

export interface CorpusUsage {
  /** Uses of each token id, special tokens included. */
  readonly counts: Uint32Array;
  readonly texts: number;
  readonly scripts: ScriptSet;
}

/**
 * Counts the tokens of every text of `files`. A file without one non-blank text is CORPUS_EMPTY, naming it: an
 * empty corpus would keep nothing but the special tokens, and an empty file among others is most likely a mistake.
 */
export async function countUsage(tokenizer: TextTokenizer, files: readonly string[], textField?: string): Promise<CorpusUsage> {
  const counts = new Uint32Array(tokenizer.vocabSize);
  const scripts = new ScriptSet();
  const perFile = new Map(files.map((f) => [f, 0]));
  let texts = 0;
  for await (const chunk of chunks(readCorpusLines(files, textField === undefined ? {} : { textField }), CHUNK)) {
    for (const ids of await tokenIds(tokenizer, chunk.map((c) => c.text))) {
      for (const id of ids) counts[id] = (counts[id] as number) + 1;
    }
    for (const { text, file } of chunk) {
      scripts.add(text);
      perFile.set(file, (perFile.get(file) ?? 0) + 1);
    }
    texts += chunk.length;
  }
  const empty = [...perFile].find(([, n]) => n === 0);
  if (empty) {
    throw new TokenizerError({
      code: 'CORPUS_EMPTY',
      message: 'the corpus file has no text: every line is blank',
      where: { file: empty[0], field: '--corpus' },
      expected: 'plain text (one text per line) or JSONL (one object per line with a "text" field)',
      hint: 'give files holding the text the model will read; for JSONL with another field, use --text-field',
    });
  }
  return { counts, texts, scripts };
}

/** Every text's token ids, special tokens included, whole (no truncation). */
export async function tokenIds(tokenizer: TextTokenizer, texts: readonly string[]): Promise<Int32Array[]> {
  if (texts.length === 0) return [];
  const batch = await tokenizer.encodeBatch(texts, { maxLength: 1 << 30, padding: 'longest', truncation: false });
  return texts.map((_, b) => Int32Array.from(batch.inputIds.subarray(b * batch.seq, b * batch.seq + (batch.lengths[b] as number)), Number));
}

/** Consecutive groups of `size` items (the last one shorter). */
export async function* chunks<T>(items: AsyncIterable<T> | Iterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}


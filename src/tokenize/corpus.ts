// Training corpora: texts from plain-text files (one per line) or JSONL files (one object per line, a text field),
// and the one-text-per-line temporary file the `tokenizers` trainer reads.
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { preview, reason, TokenizerError } from './errors.ts';

export type Corpus = Iterable<string> | AsyncIterable<string>;

export interface CorpusFileOptions {
  /** Field holding the text in JSONL files; default "text". */
  readonly textField?: string;
}

/** `.jsonl` and `.ndjson` files are JSON Lines; anything else is plain text, one text per line. */
export function isJsonLines(path: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(path);
}

/** Yields the non-empty texts of `files` in order; errors name file:line, the expectation and what was found. */
export async function* readCorpusFiles(files: readonly string[], options: CorpusFileOptions = {}): AsyncGenerator<string> {
  const field = options.textField ?? 'text';
  for (const file of files) {
    try {
      if (!statSync(file).isFile()) throw new Error('not a regular file');
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new TokenizerError('CORPUS_FILE_NOT_FOUND', missing ? `corpus file not found: ${file}` : `cannot read corpus file ${file}: ${reason(e)}`);
    }
    const jsonLines = isJsonLines(file);
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      const text = jsonLines ? jsonLineText(line, field, `${file}:${lineNo}`) : line;
      if (text.trim() !== '') yield text;
    }
  }
}

function jsonLineText(line: string, field: string, where: string): string {
  if (line.trim() === '') return '';
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new TokenizerError('CORPUS_INVALID_LINE', `${where}: not valid JSON (${reason(e)}); received ${preview(line)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerError('CORPUS_INVALID_LINE', `${where}: expected a JSON object with a "${field}" string, received ${preview(value)}`);
  }
  const text: unknown = (value as Record<string, unknown>)[field];
  if (typeof text !== 'string') {
    const fields = Object.keys(value).join(', ') || 'none';
    throw new TokenizerError(
      'CORPUS_INVALID_LINE',
      `${where}: expected a string field "${field}", received ${text === undefined ? 'no such field' : preview(text)} (fields: ${fields}); ` +
        `choose the field with --text-field / textField`,
    );
  }
  return text;
}

export interface CorpusStats {
  readonly texts: number;
  readonly characters: number;
}

/**
 * Writes one text per line for the trainer. Line breaks inside a text become spaces: the trainer reads lines,
 * and a text spanning two lines would be two texts.
 */
export async function writeCorpusFile(corpus: Corpus, path: string): Promise<CorpusStats> {
  const out = createWriteStream(path, 'utf8');
  let texts = 0;
  let characters = 0;
  let index = 0;
  try {
    for await (const text of corpus) {
      if (typeof text !== 'string') {
        throw new TokenizerError('CORPUS_INVALID_LINE', `corpus item ${index} is not a string: received ${preview(text)}`);
      }
      index++;
      const line = text.replace(/[\r\n\u2028\u2029]+/g, ' ');
      if (line.trim() === '') continue;
      texts++;
      characters += line.length;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { texts, characters };
}

/** Reads back a corpus file in chunks, for passes over it after training (usage counts). */
export async function* corpusFileChunks(path: string, size: number): AsyncGenerator<string[]> {
  let chunk: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    chunk.push(line);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

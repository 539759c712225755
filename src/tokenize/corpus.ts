// Training corpora: texts from plain-text files (one per line) or JSONL files (one object per line, a text field),
// and the one-text-per-line temporary file the `tokenizers` trainer reads.
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DataError, issue, type Location } from '../data/issues.ts';
import { invalidUtf8Issue, readTextLines } from '../data/lines.ts';
import { toXlmtError } from '../errors/index.ts';
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

/**
 * Yields the non-empty texts of `files` in order. A missing file is FILE_NOT_FOUND; a bad line (invalid UTF-8, bad
 * JSON, no text field) a DataError naming file:line, what was expected and what was found.
 */
export async function* readCorpusFiles(files: readonly string[], options: CorpusFileOptions = {}): AsyncGenerator<string> {
  for await (const { text } of readCorpusLines(files, options)) yield text;
}

/** A corpus text and where it was read: its file and 1-based line. */
export interface CorpusLine {
  readonly text: string;
  readonly file: string;
  readonly line: number;
}

/** readCorpusFiles with each text's file and line, for commands whose errors name the text. */
export async function* readCorpusLines(files: readonly string[], options: CorpusFileOptions = {}): AsyncGenerator<CorpusLine> {
  const field = options.textField ?? 'text';
  for (const file of files) {
    checkCorpusFile(file);
    const jsonLines = isJsonLines(file);
    for await (const { line, text: raw, invalid } of readTextLines(file)) {
      if (invalid !== null) throw new DataError([invalidUtf8Issue({ file, line }, invalid)]);
      const text = jsonLines ? jsonLineText(raw, field, { file, line }) : raw;
      if (text.trim() !== '') yield { text, file, line };
    }
  }
}

/** A corpus file that is missing or not a regular file, as FILE_NOT_FOUND or IO_FAILED naming it. */
export function checkCorpusFile(file: string): void {
  let regular: boolean;
  try {
    regular = statSync(file).isFile();
  } catch (e) {
    const error = toXlmtError(e);
    throw new TokenizerError({ code: error.code, message: `cannot read the corpus file: ${error.problem}`, where: { file } }, { cause: e });
  }
  if (!regular) throw new TokenizerError({ code: 'IO_FAILED', message: 'the corpus is not a regular file', where: { file }, expected: 'a text or JSONL file' });
}

function jsonLineText(line: string, field: string, at: Location): string {
  if (line.trim() === '') return '';
  let value: unknown;
  try {
    value = JSON.parse(line.startsWith('\uFEFF') ? line.slice(1) : line);
  } catch (e) {
    throw new DataError([issue('BAD_JSON', at, `invalid JSON: ${reason(e)}`, { expected: 'one JSON object per line', received: preview(line) })]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError([issue('NOT_AN_OBJECT', at, 'a line must be a JSON object', { expected: `an object with a "${field}" string`, received: preview(value) })]);
  }
  const text: unknown = (value as Record<string, unknown>)[field];
  if (typeof text !== 'string') {
    const fields = Object.keys(value).join(', ') || 'none';
    const hint = 'choose the field with --text-field / textField';
    if (text === undefined) throw new DataError([issue('MISSING_TEXT', at, 'the line has no text', { field, expected: `a string field "${field}"`, received: `fields ${fields}`, hint })]);
    throw new DataError([issue('WRONG_TYPE', at, 'the text must be a string', { field, expected: 'a string', received: preview(text), hint })]);
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
        throw new TokenizerError({ code: 'BAD_ARGUMENT', message: `corpus item ${index} is not a string`, where: { api: 'trainTokenizer' }, expected: 'a string', received: preview(text) });
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

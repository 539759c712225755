// Unlabeled texts, read whole: a pretraining corpus, or the transfer set distillation labels with its teachers.
// Files ending .jsonl / .ndjson hold one JSON object a line (`{"text": …, "lang": …}`); any other file is plain
// text, one text a line. The tokenizer module's readCorpusFiles yields bare texts and drops blanks silently; here
// the languages are kept and the blanks counted.
import { stat } from 'node:fs/promises';
import { type ErrorData, preview, toXlmtError, XlmtError } from '../errors/index.ts';
import { DataError, issue, type Location } from './issues.ts';
import { invalidUtf8Issue, readTextLines } from './lines.ts';

export interface CorpusReadOptions {
  /** JSONL field holding the text. Default "text". */
  readonly textField?: string;
  /** JSONL field holding the language code; optional on each line. Default "lang". */
  readonly langField?: string;
  /** What the texts are read for, in the message of an empty corpus: "pretrain on" (the default), "distil on". */
  readonly purpose?: string;
  /** The flag that named the files, where an empty corpus of several files is reported. Default "--corpus". */
  readonly flag?: string;
  /** The error raised for a file that cannot be read or an empty corpus: an area's subclass of XlmtError. */
  readonly error?: new (data: ErrorData, options?: ErrorOptions) => XlmtError;
}

export interface UnlabeledCorpus {
  /** The non-blank texts, in file order. */
  readonly texts: readonly string[];
  /** The language of each text: its line's lang field, or null (plain text, or a line without one). */
  readonly langs: readonly (string | null)[];
  /** Lines skipped because their text is empty or whitespace (blank JSONL lines included). */
  readonly blank: number;
}

/** Reads every file in order; errors name file:line, what was expected and what was found. */
export async function readUnlabeledTexts(files: readonly string[], options: CorpusReadOptions = {}): Promise<UnlabeledCorpus> {
  const fields = { text: options.textField ?? 'text', lang: options.langField ?? 'lang' };
  const Fail = options.error ?? XlmtError;
  const texts: string[] = [];
  const langs: (string | null)[] = [];
  let blank = 0;
  for (const file of files) {
    await checkFile(file, Fail);
    const jsonLines = /\.(jsonl|ndjson)$/i.test(file);
    for await (const { line: lineNo, text: raw, invalid } of readTextLines(file)) {
      if (invalid !== null) throw new DataError([invalidUtf8Issue({ file, line: lineNo }, invalid)]);
      const line = lineNo === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
      const entry = jsonLines ? jsonLineEntry(line, fields, { file, line: lineNo }) : { text: line, lang: null };
      if (entry.text.trim() === '') {
        blank++;
        continue;
      }
      texts.push(entry.text);
      langs.push(entry.lang);
    }
  }
  if (texts.length === 0) {
    throw new Fail({
      code: 'CORPUS_EMPTY',
      message: `no non-blank text to ${options.purpose ?? 'pretrain on'} (${blank} blank lines)`,
      ...(files.length === 1 && files[0] !== undefined ? { where: { file: files[0] } } : { where: { field: options.flag ?? '--corpus' } }),
      ...(files.length === 1 ? {} : { received: files.join(', ') || 'no files' }),
    });
  }
  return { texts, langs, blank };
}

async function checkFile(file: string, Fail: new (data: ErrorData, options?: ErrorOptions) => XlmtError): Promise<void> {
  let regular: boolean;
  try {
    regular = (await stat(file)).isFile();
  } catch (e) {
    const error = toXlmtError(e);
    throw new Fail({ code: error.code, message: `cannot read the corpus file: ${error.problem}`, where: { file } }, { cause: e });
  }
  if (!regular) throw new Fail({ code: 'IO_FAILED', message: 'the corpus is not a regular file', where: { file }, expected: 'a text or JSONL file' });
}

interface Entry {
  readonly text: string;
  readonly lang: string | null;
}

function jsonLineEntry(line: string, fields: { text: string; lang: string }, at: Location): Entry {
  if (line.trim() === '') return { text: '', lang: null };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new DataError([issue('BAD_JSON', at, `invalid JSON: ${(e as Error).message}`, { expected: 'one JSON object per line', received: preview(line) })], { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError([issue('NOT_AN_OBJECT', at, 'a line must be a JSON object', { expected: `an object with a "${fields.text}" string`, received: preview(value) })]);
  }
  const record = value as Record<string, unknown>;
  const text = record[fields.text];
  const hint = 'choose the text field with --text-field / textField';
  if (text === undefined) {
    throw new DataError([issue('MISSING_TEXT', at, 'the line has no text', { field: fields.text, expected: `a string field "${fields.text}"`, received: `fields ${Object.keys(record).join(', ') || 'none'}`, hint })]);
  }
  if (typeof text !== 'string') {
    throw new DataError([issue('WRONG_TYPE', at, 'the text must be a string', { field: fields.text, expected: 'a string', received: preview(text), hint })]);
  }
  const lang = record[fields.lang];
  if (lang !== undefined && lang !== null && typeof lang !== 'string') {
    throw new DataError([issue('WRONG_TYPE', at, 'the language must be a string', { field: fields.lang, expected: 'a language code or no field', received: preview(lang) })]);
  }
  return { text, lang: lang ?? null };
}

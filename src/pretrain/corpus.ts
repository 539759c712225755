// The unlabeled pretraining corpus: read whole into memory, then served in a shuffled order per (seed, epoch), so a
// resumed run can jump straight to any (epoch, batch).
//
// Files ending .jsonl / .ndjson hold one JSON object a line (`{"text": …, "lang": …}`); any other file is plain
// text, one text a line. The tokenizer module's readCorpusFiles yields bare texts and drops blanks silently; here
// the languages are kept and the blanks counted, so this module reads the files itself.
import { stat } from 'node:fs/promises';
import { DataError, issue, type Location } from '../data/issues.ts';
import { invalidUtf8Issue, readTextLines } from '../data/lines.ts';
import { toXlmtError } from '../errors/index.ts';
import { groupByLength } from '../util/length-groups.ts';
import { mixSeed, Random } from '../util/random.ts';
import { PretrainError, preview } from './errors.ts';

export interface CorpusReadOptions {
  /** JSONL field holding the text. Default "text". */
  readonly textField?: string;
  /** JSONL field holding the language code; optional on each line. Default "lang". */
  readonly langField?: string;
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
export async function readUnlabeledCorpus(files: readonly string[], options: CorpusReadOptions = {}): Promise<UnlabeledCorpus> {
  const fields = { text: options.textField ?? 'text', lang: options.langField ?? 'lang' };
  const texts: string[] = [];
  const langs: (string | null)[] = [];
  let blank = 0;
  for (const file of files) {
    await checkFile(file);
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
    throw new PretrainError({
      code: 'CORPUS_EMPTY',
      message: `no non-blank text to pretrain on (${blank} blank lines)`,
      ...(files.length === 1 && files[0] !== undefined ? { where: { file: files[0] } } : { where: { field: '--corpus' } }),
      ...(files.length === 1 ? {} : { received: files.join(', ') || 'no files' }),
    });
  }
  return { texts, langs, blank };
}

async function checkFile(file: string): Promise<void> {
  let regular: boolean;
  try {
    regular = (await stat(file)).isFile();
  } catch (e) {
    const error = toXlmtError(e);
    throw new PretrainError({ code: error.code, message: `cannot read the corpus file: ${error.problem}`, where: { file } }, { cause: e });
  }
  if (!regular) throw new PretrainError({ code: 'IO_FAILED', message: 'the corpus is not a regular file', where: { file }, expected: 'a text or JSONL file' });
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

export interface BatchingOptions {
  /** Texts per batch. */
  readonly batchSize: number;
  readonly seed: number;
  /** Drop each epoch's last, smaller batch. Default false: every text is seen once per epoch. */
  readonly dropLast?: boolean;
}

/** A position in the stream of batches: batch `batch` (from 0) of epoch `epoch` (from 0). */
export interface BatchCursor {
  readonly epoch: number;
  readonly batch: number;
}

export interface CorpusBatch extends BatchCursor {
  /** Indices into the corpus's texts. */
  readonly indices: Uint32Array;
  readonly texts: readonly string[];
  readonly langs: readonly (string | null)[];
}

/** A permutation of 0..size-1 (Fisher–Yates), a pure function of (seed, epoch). */
export function epochOrder(size: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  // The extra 0x5e9 keeps this stream apart from the masking stream of mixSeed(seed, step) when epoch = step.
  const random = new Random(mixSeed(seed, epoch, 0x5e9));
  for (let i = size - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/**
 * The epoch order with similar lengths batched together: within each window of `window` batches, texts are sorted
 * by length, cut into batches, and the window's batches shuffled. Short subtitle lines then stop paying for the
 * longest text of a random batch (padding was ~60% of the positions computed), while batches stay random across
 * windows. Deterministic in (seed, epoch).
 */
export function groupedEpochOrder(lengths: readonly number[], seed: number, epoch: number, batchSize: number, window: number): Uint32Array {
  const order = epochOrder(lengths.length, seed, epoch);
  if (window <= 1) return order;
  return Uint32Array.from(groupByLength(order, lengths, batchSize, window, new Random(mixSeed(seed, epoch, 0x9a0))));
}

export function batchesPerEpoch(corpusSize: number, options: BatchingOptions): number {
  checkBatching(options);
  return options.dropLast ? Math.floor(corpusSize / options.batchSize) : Math.ceil(corpusSize / options.batchSize);
}

/** The cursor of the `index`-th batch of the run (from 0): where a run that has consumed `index` batches resumes. */
export function cursorAt(index: number, corpusSize: number, options: BatchingOptions): BatchCursor {
  const perEpoch = batchesPerEpoch(corpusSize, options);
  if (perEpoch === 0) throw emptyEpoch(corpusSize, options);
  return { epoch: Math.floor(index / perEpoch), batch: index % perEpoch };
}

/**
 * Batches from `from` (default epoch 0, batch 0) on, epoch after epoch, until `epochs` epochs are complete
 * (default: without end). Batch k of epoch e is the same whether the run started at 0 or resumed there.
 */
export function* corpusBatches(
  corpus: UnlabeledCorpus,
  options: BatchingOptions & { readonly from?: BatchCursor; readonly epochs?: number; readonly groupWindow?: number },
): Generator<CorpusBatch> {
  const size = corpus.texts.length;
  const perEpoch = batchesPerEpoch(size, options);
  if (perEpoch === 0) throw emptyEpoch(size, options);
  const from = options.from ?? { epoch: 0, batch: 0 };
  if (!Number.isInteger(from.epoch) || from.epoch < 0 || !Number.isInteger(from.batch) || from.batch < 0 || from.batch >= perEpoch) {
    throw new PretrainError({
      code: 'BAD_ARGUMENT',
      message: 'no such batch',
      where: { api: 'corpusBatches', field: 'from' },
      expected: `epoch ≥ 0 and batch in [0, ${perEpoch})`,
      received: `epoch ${from.epoch}, batch ${from.batch}`,
    });
  }
  const { batchSize, seed } = options;
  const lengths = options.groupWindow ? corpus.texts.map((t) => t.length) : [];
  for (let epoch = from.epoch; options.epochs === undefined || epoch < options.epochs; epoch++) {
    const order = options.groupWindow ? groupedEpochOrder(lengths, seed, epoch, batchSize, options.groupWindow) : epochOrder(size, seed, epoch);
    for (let batch = epoch === from.epoch ? from.batch : 0; batch < perEpoch; batch++) {
      const indices = order.slice(batch * batchSize, Math.min(size, (batch + 1) * batchSize));
      yield {
        epoch,
        batch,
        indices,
        texts: Array.from(indices, (i) => corpus.texts[i] as string),
        langs: Array.from(indices, (i) => corpus.langs[i] ?? null),
      };
    }
  }
}

function checkBatching(options: BatchingOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) {
    throw new PretrainError({ code: 'BAD_OPTION', message: 'not a batch size', where: { field: 'batchSize' }, expected: 'a positive integer', received: String(options.batchSize) });
  }
}

function emptyEpoch(size: number, options: BatchingOptions): PretrainError {
  return new PretrainError({
    code: 'BAD_OPTION',
    where: { field: 'batchSize' },
    message: `an epoch of ${size} texts has no full batch`,
    expected: `at most ${size} with dropLast`,
    received: String(options.batchSize),
    hint: 'lower batchSize or set dropLast to false',
  });
}

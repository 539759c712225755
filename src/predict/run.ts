// Batch scoring of a data file: rows are read as a stream, scored a chunk at a time, and each chunk's output is
// on disk before the progress file counts it, so a killed run resumes with no row lost or written twice.
import { detectFormat } from '../data/dataset.ts';
import { DataError, issue, type DataIssue } from '../data/issues.ts';
import type { DataFormat } from '../data/rows.ts';
import { selectTasks, type Classifier } from '../infer/types.ts';
import { ChunkedOutput } from './chunked-output.ts';
import { openCsvRecords } from './csv-input.ts';
import { XlmtError } from '../errors/index.ts';
import { DEFAULT_KEEP, type InputFields, type InputProblem, type InputRecord, type InputRow } from './input.ts';
import { readJsonlRecords } from './jsonl-input.ts';
import { FILE_START, type Position } from './lines.ts';
import { formatProblem, formatRow, header, outputFormat, RESERVED_FIELDS, type OutputLayout } from './output.ts';
import { checkOutputFile, inputsOf, prepareOutputFile, type InputPath } from '../util/output-dir.ts';
import { checkResumable, errorsPath, inputIdentity, progressPath, readState, removeState, type PredictState } from './progress-file.ts';

export type OnError = 'stop' | 'skip';

/** The file a scoring job reads and writes, and the fields it takes from each row. */
export interface ScoringFile {
  readonly input: string;
  /** JSONL unless it ends in .csv or .tsv. */
  readonly output: string;
  /** Default: from the input's extension. */
  readonly format?: DataFormat;
  /** Default `text`. */
  readonly textField?: string;
  readonly idField?: string;
  /** Input fields copied to each output row; default `lang`. */
  readonly keep?: readonly string[];
  /** Default: all of the model's. */
  readonly tasks?: readonly string[];
  /** The model's directory: the output may not lie inside it. */
  readonly modelDir?: string;
}

/** What a scoring job reads, which its output files may not be (or link to, or lie inside). */
export function scoringInputs(job: ScoringFile): InputPath[] {
  return inputsOf({ '--in': job.input, '--model': job.modelDir });
}

export interface PredictJob extends ScoringFile {
  /** What identifies the model in the resume check, such as its directory and model file size and time. */
  readonly model: string;
  /** Rows per chunk: scored together, then written and counted in the progress file. Default 256. */
  readonly chunkSize?: number;
  /** `stop` (default): the first unscorable row ends the run with its file:line; `skip`: it goes to the errors file. */
  readonly onError?: OnError;
  /** Ignore the progress of an interrupted run and start over. */
  readonly restart?: boolean;
}

export interface PredictProgress {
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsErrored: number;
  readonly bytesRead: number;
  readonly totalBytes: number;
}

export interface PredictHooks {
  /** `resumedRows`: rows an interrupted run already counted (0 for a fresh run). */
  onStart?(totalBytes: number, resumedRows: number, at: PredictProgress): void;
  onChunk?(p: PredictProgress): void;
}

export interface PredictSummary extends PredictProgress {
  readonly output: string;
  /** Null when no row was unscorable. */
  readonly errors: string | null;
  /** Rows an interrupted run had already done when this one started. */
  readonly resumedRows: number;
  /** Rows scored by this run, and its time. */
  readonly scored: number;
  readonly seconds: number;
}

export const DEFAULT_CHUNK_SIZE = 256;

export async function predictFile(classifier: Classifier, job: PredictJob, hooks: PredictHooks = {}): Promise<PredictSummary> {
  const started = performance.now();
  const format = checkJob(job);
  const tasks = selectTasks(classifier.tasks, job.tasks);
  const taskNames = tasks.map((t) => t.name);
  const fields: InputFields = { text: job.textField ?? 'text', id: job.idField, keep: job.keep };
  const layout: OutputLayout = { format: outputFormat(job.output), tasks, keep: job.keep ?? DEFAULT_KEEP };
  const onError = job.onError ?? 'stop';
  // --on-error is left out: the rows written so far are the same under either, so a run stopped by a bad row
  // can go on with --on-error skip. Threads and batch size change speed only.
  const settings = {
    '--model': job.model, '--format': format, '--text-field': fields.text, '--id-field': fields.id ?? 'default',
    '--keep': fields.keep?.join(',') ?? 'default', '--tasks': taskNames.join(','), 'output format': layout.format,
  };

  const identity = await readable(job.input, () => inputIdentity(job.input));
  await prepareOutputFile({ path: job.output, inputs: scoringInputs(job) });
  if (job.restart === true) await removeState(job.output);
  const saved = await readState(job.output);
  if (saved !== null) checkResumable(job.output, saved, identity, settings);
  // The input is opened first: a CSV header without the text column fails before the output is touched.
  const input = await readable(job.input, () => openRecords(job.input, format, fields, saved?.next ?? FILE_START));
  const files = saved !== null
    ? await ChunkedOutput.reopen(job.output, saved)
    : await ChunkedOutput.begin(job.output, header(layout), {
      version: 1, input: identity, settings, rowsRead: 0, rowsWritten: 0, rowsErrored: 0, next: input.from, outputBytes: 0, errorsBytes: 0,
    });
  const progressOf = (s: PredictState): PredictProgress => ({ rowsRead: s.rowsRead, rowsWritten: s.rowsWritten, rowsErrored: s.rowsErrored, bytesRead: s.next.offset, totalBytes: identity.size });
  const resumedRows = files.state.rowsRead;
  const errorsFile = errorsPath(job.output);

  const score = async (chunk: readonly InputRecord[]): Promise<void> => {
    const last = chunk.at(-1);
    if (last === undefined) return;
    const rows = chunk.filter((r): r is InputRow => r.kind === 'row');
    const problems = chunk.filter((r): r is InputProblem => r.kind === 'error');
    const [first] = problems;
    if (first !== undefined && onError === 'stop') throw stopError(first.issue, errorsFile);
    const predictions = rows.length > 0 ? await classifier.classify(rows.map((r) => r.text), taskNames) : [];
    const output = rows.map((r, i) => formatRow(layout, r, predictions[i] ?? missingPrediction(i))).join('');
    const state = await files.commit({ output, problems: problems.map(formatProblem).join(''), written: rows.length, errored: problems.length, next: last.next });
    hooks.onChunk?.(progressOf(state));
  };

  try {
    hooks.onStart?.(identity.size, resumedRows, progressOf(files.state));
    const chunkSize = job.chunkSize ?? DEFAULT_CHUNK_SIZE;
    let chunk: InputRecord[] = [];
    for await (const record of input.records) {
      chunk.push(record);
      if (chunk.length < chunkSize) continue;
      await score(chunk);
      chunk = [];
    }
    await score(chunk);
    await files.finish();
  } finally {
    await files.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const done = files.state;
  return { ...progressOf(done), output: job.output, errors: files.errorsFile, resumedRows, scored: done.rowsWritten - (saved?.rowsWritten ?? 0), seconds };
}

/** The input format, after the checks that need no file. */
function checkJob(job: PredictJob): DataFormat {
  const format = job.format ?? detectFormat(job.input);
  if (format === null) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { file: job.input }, message: 'cannot tell the format from the file name', expected: 'a .jsonl, .csv or .tsv file', hint: 'name the format with --format jsonl|csv|tsv' });
  }
  // The progress and errors files are written too: neither may be an input.
  for (const path of [job.output, progressPath(job.output), errorsPath(job.output)]) checkOutputFile({ path, inputs: scoringInputs(job) });
  const reserved = (job.keep ?? []).filter((k) => RESERVED_FIELDS.includes(k));
  if (reserved.length > 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--keep' }, message: `kept fields would shadow output fields`, expected: `names other than ${RESERVED_FIELDS.join(', ')}`, received: reserved.join(', ') });
  }
  const chunkSize = job.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--chunk-size' }, message: 'the chunk size must be a positive integer', received: String(chunkSize) });
  }
  return format;
}

/** The input's rows from `from` on, through the reader of its format. */
export async function openRecords(file: string, format: DataFormat, fields: InputFields, from: Position): Promise<{ from: Position; records: AsyncIterable<InputRecord> }> {
  if (format === 'jsonl') return { from, records: readJsonlRecords(file, fields, from) };
  return openCsvRecords(file, format === 'csv' ? ',' : '\t', fields, from);
}

/** File-system errors on the input become a DataError naming it; others pass through. */
export async function readable<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('E')) throw e;
    throw new DataError([issue('READ_FAILED', { file, line: null }, `cannot read the input: ${(e as Error).message}`)]);
  }
}

function stopError(found: DataIssue, errorsFile: string): DataError {
  const skip = `to write unscorable rows to ${errorsFile} and go on, pass --on-error skip`;
  return new DataError([{ ...found, hint: found.hint === null ? skip : `${found.hint}; ${skip}` }]);
}

function missingPrediction(index: number): never {
  throw new XlmtError({ code: 'INTERNAL', message: `the classifier answered fewer texts than it was given (none for text ${index} of the chunk)`, where: { api: 'predictFile' } });
}

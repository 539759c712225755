// `xlmt baseline predict` as a function: streams a JSONL, CSV or TSV file through `xlmt predict`'s row readers,
// scores each chunk of rows and writes `xlmt predict`'s layout (so the file serves as `xlmt train --teacher`).
// With skipLabeled, a row's output leaves out the tasks it already carries a gold label for, and a row
// labeled for every task asked is not written (the summary counts it). The output appears whole at the end.
import { access } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { writeFileAtomic } from '../checkpoint/atomic.ts';
import { detectFormat, type DataFormat } from '../data/index.ts';
import { DataError } from '../data/issues.ts';
import { selectTasks, UnknownTaskError, type TaskInfo, type TaskPrediction } from '../infer/types.ts';
import { DEFAULT_KEEP, type InputFields, type InputRow } from '../predict/input.ts';
import { openRecords, readable, scoringInputs, type ScoringFile } from '../predict/run.ts';
import { checkOutputFile, prepareOutputFile } from '../util/output-dir.ts';
import { FILE_START, readLines } from '../predict/lines.ts';
import { formatRow, header, outputFormat, RESERVED_FIELDS, type OutputLayout } from '../predict/output.ts';
import { XlmtError } from '../errors/index.ts';
import type { BaselineModel } from './model.ts';

export interface BaselinePredictJob extends ScoringFile {
  /** Leave out the tasks a row is labeled for: JSONL `labels.<task>`, or a non-empty CSV/TSV column named as the task. */
  readonly skipLabeled?: boolean;
  /** Rows scored together (default 1024). */
  readonly chunkSize?: number;
}

export interface BaselinePredictSummary {
  readonly output: string;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  /** With skipLabeled: rows labeled for every task asked, so not written. */
  readonly rowsFullyLabeled: number;
  /** Predictions written per task. */
  readonly predictions: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export interface BaselinePredictHooks {
  onChunk?(rowsRead: number): void;
}

export async function predictBaselineFile(model: BaselineModel, job: BaselinePredictJob, hooks: BaselinePredictHooks = {}): Promise<BaselinePredictSummary> {
  const started = performance.now();
  const format = checkJob(job);
  const tasks = selectModelTasks(model, job.tasks);
  const keep = job.keep ?? DEFAULT_KEEP;
  const layout: OutputLayout = { format: outputFormat(job.output), tasks, keep };
  // Where a row's gold labels are read from: extra kept fields, dropped again before the row is written.
  const labelFields = job.skipLabeled === true ? await labelSources(job.input, format, tasks, job.keep) : null;
  const fields: InputFields = {
    text: job.textField ?? 'text',
    id: job.idField,
    keep: labelFields === null ? job.keep : [...labelFields.keep, ...labelFields.extra],
  };
  // The JSONL reader opens the file lazily, so a missing input is caught here, before the output is touched.
  await readable(job.input, () => access(job.input));
  const { records } = await readable(job.input, () => openRecords(job.input, format, fields, FILE_START));

  const predictions: Record<string, number> = Object.fromEntries(tasks.map((t) => [t.name, 0]));
  let rowsRead = 0;
  let rowsWritten = 0;
  let rowsFullyLabeled = 0;
  const scoreChunk = (rows: readonly InputRow[]): string => {
    const answers = model.classify(rows.map((r) => r.text), tasks);
    let text = '';
    rows.forEach((row, i) => {
      const labeled = labelFields === null ? new Set<string>() : labelFields.labeledTasks(row);
      const kept: Record<string, TaskPrediction> = {};
      for (const t of tasks) {
        const p = answers[i]!.tasks[t.name];
        if (p !== undefined && !labeled.has(t.name)) kept[t.name] = p;
      }
      const names = Object.keys(kept);
      if (names.length === 0) {
        rowsFullyLabeled += 1;
        return;
      }
      for (const name of names) predictions[name]! += 1;
      const shown = labelFields === null ? row : { ...row, kept: Object.fromEntries(Object.entries(row.kept).filter(([k]) => keep.includes(k))) };
      text += formatRow(layout, shown, { tasks: kept, truncated: false });
      rowsWritten += 1;
    });
    return text;
  };

  async function* scored(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(header(layout));
    let chunk: InputRow[] = [];
    for await (const record of records) {
      rowsRead += 1;
      if (record.kind === 'error') throw new DataError([record.issue]);
      chunk.push(record);
      if (chunk.length < (job.chunkSize ?? 1024)) continue;
      yield Buffer.from(scoreChunk(chunk));
      chunk = [];
      hooks.onChunk?.(rowsRead);
    }
    yield Buffer.from(scoreChunk(chunk));
  }
  await prepareOutputFile({ path: job.output, inputs: scoringInputs(job) });
  await writeFileAtomic(job.output, scored());
  return { output: job.output, rowsRead, rowsWritten, rowsFullyLabeled, predictions, seconds: (performance.now() - started) / 1000 };
}

function checkJob(job: BaselinePredictJob): DataFormat {
  const format = job.format ?? detectFormat(job.input);
  if (format === null) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--in' }, message: `cannot tell the format of ${job.input} from its name`, expected: 'a .jsonl, .csv or .tsv file' });
  }
  checkOutputFile({ path: job.output, inputs: scoringInputs(job) });
  const reserved = (job.keep ?? []).filter((k) => RESERVED_FIELDS.includes(k));
  if (reserved.length > 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--keep' }, message: 'kept fields would shadow output fields', expected: `names other than ${RESERVED_FIELDS.join(', ')}`, received: reserved.join(', ') });
  }
  if (job.chunkSize !== undefined && !(Number.isInteger(job.chunkSize) && job.chunkSize > 0)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: 'chunkSize' }, message: 'must be a positive integer', received: String(job.chunkSize) });
  }
  return format;
}

function selectModelTasks(model: BaselineModel, names: readonly string[] | undefined): TaskInfo[] {
  try {
    return selectTasks(model.taskInfo, names);
  } catch (e) {
    if (e instanceof UnknownTaskError) throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--tasks' }, message: `the model has no task ${JSON.stringify(e.task)}`, expected: e.known.join(', '), received: (names ?? []).join(',') });
    throw e;
  }
}

interface LabelSources {
  /** The kept fields the output shows. */
  readonly keep: readonly string[];
  /** Fields read only to find labels. */
  readonly extra: readonly string[];
  labeledTasks(row: InputRow): Set<string>;
}

/**
 * JSONL rows carry labels in `labels` (a task is labeled when its key holds a value); CSV/TSV rows in columns
 * named as the tasks (labeled when the cell is not empty), as training reads them without a column mapping.
 */
async function labelSources(input: string, format: DataFormat, tasks: readonly TaskInfo[], keep: readonly string[] | undefined): Promise<LabelSources> {
  if (format === 'jsonl') {
    const shown = keep ?? DEFAULT_KEEP;
    return {
      keep: shown,
      extra: shown.includes('labels') ? [] : ['labels'],
      labeledTasks: (row) => {
        const labels = row.kept['labels'];
        if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return new Set();
        return new Set(tasks.map((t) => t.name).filter((name) => (labels as Record<string, unknown>)[name] !== undefined && (labels as Record<string, unknown>)[name] !== null));
      },
    };
  }
  // The CSV reader insists on every kept column, so only the task columns the header has are asked for.
  const columns = await readable(input, () => csvHeader(input, format === 'csv' ? ',' : '\t'));
  const shown = keep ?? DEFAULT_KEEP.filter((k) => columns.includes(k));
  const taskColumns = tasks.map((t) => t.name).filter((name) => columns.includes(name));
  return {
    keep: shown,
    extra: taskColumns.filter((c) => !shown.includes(c)),
    labeledTasks: (row) => new Set(taskColumns.filter((c) => row.kept[c] !== undefined)),
  };
}

async function csvHeader(file: string, delimiter: string): Promise<string[]> {
  for await (const line of readLines(file, FILE_START)) {
    if (line.text.trim() === '') continue;
    const [cells] = parse(line.text, { delimiter, relax_quotes: true }) as string[][];
    return (cells ?? []).map((c) => c.trim());
  }
  return [];
}

// Loads a data file (JSONL, CSV or TSV) into an in-memory dataset: every row, or a DataError listing every problem.
import { extname } from 'node:path';
import { readCsv, type CsvOptions } from './csv.ts';
import type { Example } from './example.ts';
import { inferTaskSchema } from './infer.ts';
import { DataError, issue, show, throwIfAny, type DataIssue } from './issues.ts';
import { readJsonl, type JsonlOptions } from './jsonl.ts';
import type { DataFormat, ReadResult } from './rows.ts';
import type { TaskSchema } from './schema.ts';
import { validateRows, type ValidateOptions } from './validate.ts';

export interface Dataset {
  readonly file: string;
  readonly format: DataFormat;
  /** The schema the labels were checked against and indexed by; `origin.kind` says whether it was inferred. */
  readonly schema: TaskSchema;
  /** One per row, in file order. */
  readonly examples: readonly Example[];
}

export interface LoadOptions extends ValidateOptions, JsonlOptions {
  /** Default: from the extension (.jsonl/.ndjson, .csv, .tsv/.tab). */
  readonly format?: DataFormat;
  /** Omitted: inferred from the labels found (see inferTaskSchema); fine for a look, not for training. */
  readonly schema?: TaskSchema;
  /** CSV/TSV only. */
  readonly csv?: CsvOptions;
}

const EXTENSIONS: Readonly<Record<string, DataFormat>> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.tsv': 'tsv', '.tab': 'tsv' };

export function detectFormat(file: string): DataFormat | null {
  return EXTENSIONS[extname(file).toLowerCase()] ?? null;
}

export async function loadDataset(file: string, options: LoadOptions = {}): Promise<Dataset> {
  const at = { file, line: null };
  const format = options.format ?? detectFormat(file);
  if (format === null) {
    throw new DataError([issue('BAD_FORMAT', at, 'cannot tell the format from the file name', { expected: 'a .jsonl, .csv or .tsv file, or a format (format, --format)', received: show(extname(file) || file) })]);
  }
  throwIfAny(checkOptions(file, format, options));

  const read = await readFormat(file, format, options);
  if (read.rows.length === 0 && read.issues.length === 0) {
    throw new DataError([issue('EMPTY_FILE', at, 'the file holds no rows', { expected: format === 'jsonl' ? 'one JSON object per line' : 'a header and at least one record', received: 'nothing' })]);
  }
  const schema = options.schema ?? inferTaskSchema(read.rows, file);
  const { examples, issues } = validateRows(file, read.rows, read.fields, schema, options);
  // Reader and row problems interleave by line, so the report reads top to bottom like the file.
  throwIfAny([...read.issues, ...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  return { file, format, schema, examples };
}

async function readFormat(file: string, format: DataFormat, options: LoadOptions): Promise<ReadResult> {
  try {
    if (format === 'jsonl') return await readJsonl(file, options);
    const context = { delimiter: format === 'csv' ? ',' : '\t', schema: options.schema ?? null, hasDefaultLang: options.defaultLang !== undefined, allowUnlabeled: options.allowUnlabeled === true } as const;
    return await readCsv(file, options.csv ?? {}, context);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('E')) throw e;
    throw new DataError([issue('READ_FAILED', { file, line: null }, `cannot read the file: ${(e as Error).message}`)]);
  }
}

function checkOptions(file: string, format: DataFormat, options: LoadOptions): DataIssue[] {
  const at = { file, line: null };
  const issues: DataIssue[] = [];
  if (format === 'jsonl' && options.csv !== undefined && Object.keys(options.csv).length > 0) {
    const received = Object.keys(options.csv).join(', ');
    issues.push(issue('BAD_OPTION', at, 'a column mapping applies to CSV and TSV files only', { field: 'csv', expected: 'no column options for JSONL', received, hint: 'JSONL rows name their fields: text, lang, id, labels' }));
  }
  const lang = options.defaultLang;
  if (lang !== undefined && (lang === '' || /\s/.test(lang))) {
    issues.push(issue('BAD_OPTION', at, 'the default language must be a code without spaces', { field: 'defaultLang', expected: 'a language code such as "en"', received: show(lang) }));
  }
  return issues;
}

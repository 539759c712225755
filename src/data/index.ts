// The data API: task schemas, dataset loading and validation, statistics.
export {
  loadTaskSchema,
  parseTaskSchema,
  taskSchemaToJson,
  makeSchema,
  makeTask,
  type Task,
  type TaskJson,
  type TaskSchema,
  type TaskType,
  type SchemaOrigin,
} from './schema.ts';
export { loadDataset, detectFormat, type Dataset, type LoadOptions } from './dataset.ts';
export type { Example, LabelValue } from './example.ts';
export type { DataFormat } from './rows.ts';
export { CSV_DEFAULTS, type CsvOptions } from './csv.ts';
export type { JsonlOptions } from './jsonl.ts';
export type { ValidateOptions } from './validate.ts';
export { inferTaskSchema } from './infer.ts';
export { datasetStats, type DatasetStats, type LabelCounts, type TaskStats } from './stats.ts';
export { renderStats, describeSchema } from './report.ts';
export { DataError, renderIssue, renderIssues, RENDER_CAP, type DataIssue, type DataIssueCode } from './issues.ts';

// `xlmt data`: look at a dataset file: validate it and print counts per task × language × label.
import { Command, InvalidArgumentError, Option } from 'commander';
import { datasetStats, describeSchema, loadDataset, loadTaskSchema, renderStats, taskSchemaToJson, type CsvOptions, type DataFormat, type LoadOptions } from '../data/index.ts';

interface InspectFlags {
  readonly tasks?: string;
  readonly format?: DataFormat;
  readonly textColumn?: string;
  readonly langColumn?: string;
  readonly idColumn?: string;
  readonly labelColumn: Record<string, string>;
  readonly lang?: string;
  readonly separator?: string;
  readonly emptySet?: string;
  readonly allowUnlabeled: boolean;
  readonly ignoreExtraFields: boolean;
  readonly json: boolean;
}

/** `--label-column sentiment=sent_label`, repeatable; later flags add tasks, never overwrite one. */
function labelColumn(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  const task = value.slice(0, eq).trim();
  const column = value.slice(eq + 1).trim();
  if (eq < 0 || task === '' || column === '') throw new InvalidArgumentError(`--label-column expects task=column, got "${value}"`);
  if (Object.hasOwn(previous, task)) throw new InvalidArgumentError(`--label-column names task "${task}" twice`);
  return { ...previous, [task]: column };
}

function csvOptions(f: InspectFlags): CsvOptions {
  return {
    ...(f.textColumn === undefined ? {} : { textColumn: f.textColumn }),
    ...(f.langColumn === undefined ? {} : { langColumn: f.langColumn }),
    ...(f.idColumn === undefined ? {} : { idColumn: f.idColumn }),
    ...(Object.keys(f.labelColumn).length === 0 ? {} : { labelColumns: f.labelColumn }),
    ...(f.separator === undefined ? {} : { separator: f.separator }),
    ...(f.emptySet === undefined ? {} : { emptySet: f.emptySet }),
  };
}

export function dataCommand(write: (text: string) => void = (text) => process.stdout.write(text)): Command {
  const data = new Command('data').description('dataset files: validation and statistics');
  data
    .command('inspect')
    .description('validate a JSONL, CSV or TSV file and print counts per task × language × label')
    .argument('<file>', 'the data file')
    .option('--tasks <file>', 'task schema (JSON); without it the schema is inferred from the labels')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['jsonl', 'csv', 'tsv']))
    .option('--text-column <name>', 'CSV/TSV: column holding the text (default "text")')
    .option('--lang-column <name>', 'CSV/TSV: column holding the language (default "lang")')
    .option('--id-column <name>', 'CSV/TSV: column holding the row id (default "id" when present)')
    .addOption(new Option('--label-column <task=column>', 'CSV/TSV: column holding a task\'s labels, repeatable').argParser(labelColumn).default({}, 'columns named after the tasks'))
    .option('--lang <code>', 'language of rows that name none')
    .option('--separator <text>', 'CSV/TSV: separator between multilabel labels in a cell (default "|")')
    .option('--empty-set <token>', 'CSV/TSV: cell meaning "none of the labels" for a multilabel task (default "[]")')
    .option('--allow-unlabeled', 'accept rows labeled for no task', false)
    .option('--ignore-extra-fields', 'JSONL: accept fields other than id, text, lang, labels', false)
    .option('--json', 'print one JSON object', false)
    .action(async (file: string, f: InspectFlags) => {
      const csv = csvOptions(f);
      const options: LoadOptions = {
        ...(f.tasks === undefined ? {} : { schema: await loadTaskSchema(f.tasks) }),
        ...(f.format === undefined ? {} : { format: f.format }),
        ...(Object.keys(csv).length === 0 ? {} : { csv }),
        ...(f.lang === undefined ? {} : { defaultLang: f.lang }),
        allowUnlabeled: f.allowUnlabeled,
        ignoreExtraFields: f.ignoreExtraFields,
      };
      const dataset = await loadDataset(file, options);
      const stats = datasetStats(dataset);
      if (f.json) {
        const schema = { origin: dataset.schema.origin, description: describeSchema(dataset.schema), tasks: taskSchemaToJson(dataset.schema) };
        write(`${JSON.stringify({ file: dataset.file, format: dataset.format, schema, stats }, null, 2)}\n`);
      } else {
        write(`${renderStats(dataset, stats)}\n`);
      }
    });
  return data;
}

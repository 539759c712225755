// The filtered data each variant trains on, written under DIR/data/<subset>/ as train.jsonl, dev.jsonl and
// tasks.json in the dataset format (ids kept), so every run can be repeated with `xlmt train` and inspected with
// `xlmt data inspect`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { taskSchemaToJson, type Example, type TaskSchema } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import type { DataSubset } from './plan.ts';

export interface SubsetFiles {
  readonly train: string;
  readonly dev: string;
  readonly tasks: string;
}

export function subsetFiles(root: string, subset: DataSubset): SubsetFiles {
  const dir = join(root, 'data', subset.path);
  return { train: join(dir, 'train.jsonl'), dev: join(dir, 'dev.jsonl'), tasks: join(dir, 'tasks.json') };
}

/** One row as the JSONL loader reads it: label indices back to label names. */
export function exampleLine(e: Example, schema: TaskSchema): string {
  const labels: Record<string, string | string[]> = {};
  for (const task of schema.tasks) {
    const value = e.labels.get(task.name);
    if (value === undefined) continue;
    labels[task.name] = typeof value === 'number' ? name(task.labels, value) : value.map((i) => name(task.labels, i));
  }
  return JSON.stringify({ id: e.id, text: e.text, lang: e.lang, labels });
}

function name(labels: readonly string[], index: number): string {
  const label = labels[index];
  if (label === undefined) throw new XlmtError({ code: 'INTERNAL', message: `label index ${index} is out of range (${labels.length} labels)`, where: { api: 'exampleLine' } });
  return label;
}

function contents(subset: DataSubset): Record<keyof SubsetFiles, string> {
  const lines = (rows: readonly Example[]): string => rows.map((e) => `${exampleLine(e, subset.schema)}\n`).join('');
  return { train: lines(subset.train), dev: lines(subset.dev), tasks: `${JSON.stringify(taskSchemaToJson(subset.schema), null, 2)}\n` };
}

/**
 * Writes the subset's files, leaving identical ones untouched. When a file would change (the source data or the
 * selection of tasks or languages changed) while `trained` says runs already used the old one, refuses: their
 * scores would no longer describe the data on disk.
 */
export async function writeSubset(root: string, subset: DataSubset, trained: boolean): Promise<SubsetFiles> {
  const files = subsetFiles(root, subset);
  const wanted = contents(subset);
  const keys = ['train', 'dev', 'tasks'] as const;
  const changed = keys.filter((k) => !existsSync(files[k]) || readFileSync(files[k], 'utf8') !== wanted[k]);
  const replaced = changed.filter((k) => existsSync(files[k]));
  if (trained && replaced.length > 0) {
    throw new XlmtError({ code: 'INPUT_CHANGED', where: { file: files[replaced[0] as keyof SubsetFiles] }, message: 'the filtered data differs from the file earlier runs of this experiment trained on (the source data, --tasks or --languages changed)',
      hint: `Use another --out, or delete ${join(root, 'runs')} to train again on the new data` });
  }
  for (const k of changed) {
    await mkdir(dirname(files[k]), { recursive: true });
    // Written beside the target and renamed: a crash leaves the old file or the new one, never half a file.
    const tmp = `${files[k]}.tmp`;
    await writeFile(tmp, wanted[k]);
    await rename(tmp, files[k]);
  }
  return files;
}

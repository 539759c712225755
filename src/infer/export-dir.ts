// Opening an export directory (xlmt export's output): its xlmt.json, task schema, tokenizer and ONNX model, with the
// model's outputs checked against the schema. Serving, prediction and distillation teachers all open exports so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTaskSchema, type Task } from '../data/index.ts';
import { XlmtError } from '../errors/index.ts';
import { readModelMeta, TASKS_FILE, TOKENIZER_FILE, type ModelMeta } from '../model-dir/index.ts';
import { ModelFile } from '../runtime/model-file.ts';
import { TextTokenizer } from '../tokenize/index.ts';
import { ONNX_DIR, ONNX_FILE, probsOutput } from './contract.ts';

export interface OpenedExport {
  readonly onnxPath: string;
  readonly meta: ModelMeta;
  readonly tasks: readonly Task[];
  readonly tokenizer: TextTokenizer;
  /** Owned by the caller from here on: release it. */
  readonly model: ModelFile;
}

export interface OpenExportOptions {
  readonly threads?: number;
  /** What to tell a user who gave a directory that is not an export. */
  readonly notAnExportHint?: string;
}

export async function openExportDir(dir: string, options: OpenExportOptions = {}): Promise<OpenedExport> {
  const onnxPath = join(dir, ONNX_DIR, ONNX_FILE);
  if (!existsSync(onnxPath)) {
    throw new XlmtError({
      code: existsSync(dir) ? 'NOT_A_MODEL' : 'FILE_NOT_FOUND',
      where: { file: dir },
      message: existsSync(dir) ? `no ${ONNX_DIR}/${ONNX_FILE}: not an export directory` : 'no such directory',
      ...(options.notAnExportHint ? { hint: options.notAnExportHint } : {}),
    });
  }
  const meta = await readModelMeta(dir);
  const { tasks } = await loadTaskSchema(join(dir, TASKS_FILE));
  const tokenizer = TextTokenizer.fromFile(join(dir, TOKENIZER_FILE));
  const model = await ModelFile.load(onnxPath, options.threads ? { threads: options.threads } : {});
  const missing = tasks.find((t) => !model.outputNames.includes(probsOutput(t.name)));
  if (missing) {
    await model.release();
    throw new XlmtError({
      code: 'BAD_MODEL',
      where: { file: onnxPath, task: missing.name },
      message: `the graph has no output ${probsOutput(missing.name)} for this task of ${TASKS_FILE}`,
      expected: `outputs ${tasks.map((t) => probsOutput(t.name)).join(', ')}`,
      received: model.outputNames.join(', '),
      hint: 'the directory mixes files of different exports: export again',
    });
  }
  return { onnxPath, meta, tasks, tokenizer, model };
}

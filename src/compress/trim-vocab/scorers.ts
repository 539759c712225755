// A model as the proof runs it: its tokenizer, its padding and longest input, and an ONNX Runtime session that
// gives per-task probabilities. A model directory runs as its reference inference graph (the training graph's
// forward pass, as `xlmt export` checks against); an export directory runs its own onnx/model.onnx.
import { join } from 'node:path';
import { serialize } from '../../builder/serialize.ts';
import { loadTaskSchema } from '../../data/index.ts';
import { referenceInferenceGraph } from '../../export/graph.ts';
import { ONNX_DIR, ONNX_FILE } from '../../infer/contract.ts';
import type { TaskInfo } from '../../infer/types.ts';
import { readModelMeta, TASKS_FILE, TOKENIZER_FILE } from '../../model-dir/index.ts';
import { ModelFile } from '../../runtime/model-file.ts';
import { TextTokenizer } from '../../tokenize/index.ts';
import { loadModelDir } from '../../train/model-dir.ts';
import type { TrimSource } from './model-files.ts';

export interface Scorer {
  readonly tokenizer: TextTokenizer;
  readonly maxLength: number;
  readonly padId: number;
  readonly tasks: readonly TaskInfo[];
  readonly model: ModelFile;
}

export async function loadScorer(source: TrimSource, threads: number): Promise<Scorer> {
  return source.kind === 'export' ? exportScorer(source.dir, threads) : modelDirScorer(source.dir, threads);
}

async function modelDirScorer(dir: string, threads: number): Promise<Scorer> {
  const model = await loadModelDir(dir);
  const { pooling, headStyle, positions } = model.meta;
  const graph = referenceInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling, headStyle, positions });
  const session = await ModelFile.load(serialize(graph, { params: model.params }), { threads }, `reference graph of ${dir}`);
  return { tokenizer: model.tokenizer, maxLength: model.meta.maxLength, padId: model.meta.padId, tasks: model.schema.tasks, model: session };
}

async function exportScorer(dir: string, threads: number): Promise<Scorer> {
  const meta = await readModelMeta(dir);
  const schema = await loadTaskSchema(join(dir, TASKS_FILE));
  const tokenizer = TextTokenizer.fromFile(join(dir, TOKENIZER_FILE));
  const session = await ModelFile.load(join(dir, ONNX_DIR, ONNX_FILE), { threads });
  return { tokenizer, maxLength: meta.maxLength, padId: meta.padId, tasks: schema.tasks, model: session };
}

// A transformers *ForSequenceClassification checkpoint (BERT, RoBERTa, XLM-R) as an xlmt model directory, so that
// eval, export, serve and predict take it as they take a model xlmt trained, and `train --init` continues it.
import { join } from 'node:path';
import { GraphBuilder } from '../builder/builder.ts';
import { canonicalName, type KeyReport, loadHfModel, mapCheckpoint, maxSequenceLength, type SafeTensor } from '../checkpoint/index.ts';
import { makeSchema, makeTask, type TaskSchema } from '../data/index.ts';
import { type HeadStyle, TASK_NAME, type TaskType } from '../models/heads.ts';
import { multiTaskClassifier } from '../models/multitask.ts';
import { positionsOf, TextTokenizer } from '../tokenize/index.ts';
import { saveModelDir, TOKENIZER_FILE, type TrainedModel } from './model-dir.ts';

export interface ImportOptions {
  /** The task the checkpoint's head becomes (its name in data files, requests and outputs). */
  readonly task: string;
  /** Default: multilabel when config.json's problem_type is multi_label_classification, else multiclass. */
  readonly type?: TaskType;
  /** Default: tokenizer.json beside the checkpoint. */
  readonly tokenizer?: string;
  /** Tokens per text; default: what the position table allows, at most 512. */
  readonly maxLength?: number;
  /** Multilabel decision threshold for every label (transformers' convention: 0.5). */
  readonly threshold: number;
}

export interface ImportedClassifier {
  readonly model: TrainedModel;
  readonly headStyle: HeadStyle;
  readonly report: KeyReport;
  readonly warnings: readonly string[];
}

/** Raised for a checkpoint that cannot become a classifier; names the directory and what to do. */
export class ImportError extends Error {
  constructor(dir: string, problem: string) {
    super(`${dir}: ${problem}`);
    this.name = 'ImportError';
  }
}

const MAX_DEFAULT_LENGTH = 512;

/**
 * Which transformers head the tensors (by canonical name) hold, RoBERTa's two-layer `classifier.dense` + `out_proj`
 * or BERT's one `classifier` over the pooler, and how many outputs it has.
 */
function headOf(dir: string, tensors: ReadonlyMap<string, SafeTensor>): { style: HeadStyle; outputs: number } {
  const outputs = (name: string): number => tensors.get(name)?.shape[0] ?? 0;
  if (tensors.has('classifier.out_proj.weight')) return { style: 'roberta', outputs: outputs('classifier.out_proj.weight') };
  if (tensors.has('classifier.weight')) {
    if (!tensors.has('pooler.dense.weight')) throw new ImportError(dir, 'has a classifier.weight but no pooler (bert.pooler.dense.*): BertForSequenceClassification checkpoints carry both');
    return { style: 'bert', outputs: outputs('classifier.weight') };
  }
  throw new ImportError(dir, 'holds no sequence-classification head (classifier.weight, or classifier.dense and classifier.out_proj): '
    + 'it is a base or masked-LM checkpoint; train a classifier from it with `xlmt train --init DIR`');
}

export async function importClassifier(dir: string, out: string, options: ImportOptions): Promise<ImportedClassifier> {
  if (!TASK_NAME.test(options.task)) throw new ImportError(dir, `task name "${options.task}" must match ${TASK_NAME} (it names parameters and outputs)`);
  if (!(options.threshold > 0 && options.threshold < 1)) throw new ImportError(dir, `the multilabel threshold must be in (0, 1), got ${options.threshold}`);
  const checkpoint = await loadHfModel(dir);
  const hf = checkpoint.config;
  const warnings = [...checkpoint.warnings];
  const head = headOf(dir, new Map([...checkpoint.tensors].map(([key, tensor]) => [canonicalName(key), tensor])));
  let labels = hf.labels ? [...hf.labels] : null;
  if (!labels) {
    labels = Array.from({ length: head.outputs }, (_, i) => `LABEL_${i}`);
    warnings.push(`config.json names no labels (id2label); the head's ${head.outputs} outputs are called ${labels.join(', ')}`);
  }
  if (labels.length !== head.outputs) throw new ImportError(dir, `config.json names ${labels.length} labels but the classifier has ${head.outputs} outputs`);
  if (new Set(labels).size !== labels.length) throw new ImportError(dir, `config.json's id2label repeats a label name: ${labels.join(', ')}`);
  const type = options.type ?? (hf.extra['problem_type'] === 'multi_label_classification' ? 'multilabel' : 'multiclass');
  const schema: TaskSchema = makeSchema([makeTask(options.task, type, labels)], { kind: 'inline', file: null });

  const tokenizerPath = options.tokenizer ?? join(dir, TOKENIZER_FILE);
  let tokenizer: TextTokenizer;
  try {
    tokenizer = TextTokenizer.fromFile(tokenizerPath);
  } catch (e) {
    throw new ImportError(dir, `cannot read the tokenizer ${tokenizerPath} (${(e as Error).message}); give one with --tokenizer FILE`);
  }
  if (tokenizer.vocabSize > hf.encoder.vocabSize) {
    throw new ImportError(dir, `${tokenizerPath} has ${tokenizer.vocabSize} tokens but the encoder's vocabulary holds ${hf.encoder.vocabSize}: not this model's tokenizer`);
  }
  const limit = maxSequenceLength(hf);
  const maxLength = options.maxLength ?? Math.min(limit, MAX_DEFAULT_LENGTH);
  if (maxLength > limit) throw new ImportError(dir, `max length ${maxLength} exceeds what the encoder's ${hf.encoder.maxPositionEmbeddings} positions allow (${limit})`);

  // The graph names the head heads.<task>.*; the checkpoint's classifier.* maps onto it.
  const g = new GraphBuilder('import');
  multiTaskClassifier(g, hf.encoder, schema.tasks, { training: false, pooling: 'cls', headStyle: head.style });
  const expected = g.build().params.map((p) => ({ name: p.name, shape: p.shape as number[] }));
  const { params, report } = mapCheckpoint(expected, checkpoint.tensors, { source: dir, classifierTask: options.task });
  const model: TrainedModel = {
    hf, params, tokenizer, schema,
    meta: {
      format: 'xlmt-model', version: 1, pooling: 'cls', headStyle: head.style, maxLength,
      padId: tokenizer.special('pad', 'batching').id, positions: positionsOf(hf),
      thresholds: type === 'multilabel' ? { [options.task]: labels.map(() => options.threshold) } : {},
      info: { importedFrom: dir, architectures: [...hf.architectures] },
    },
  };
  await saveModelDir(out, model);
  return { model, headStyle: head.style, report, warnings };
}

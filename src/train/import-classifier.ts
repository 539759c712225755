// A transformers *ForSequenceClassification checkpoint (BERT, RoBERTa, XLM-R) as an xlmt model directory, so that
// eval, export, serve and predict take it as they take a model xlmt trained, and `train --init` continues it.
import { join } from 'node:path';
import { GraphBuilder } from '../builder/builder.ts';
import { canonicalName, CONFIG_FILE, type KeyReport, loadHfModel, mapCheckpoint, maxSequenceLength, type SafeTensor } from '../checkpoint/index.ts';
import { makeSchema, makeTask, type TaskSchema } from '../data/index.ts';
import { toXlmtError, XlmtError } from '../errors/index.ts';
import { type HeadStyle, TOKENIZER_FILE } from '../model-dir/index.ts';
import { TASK_NAME, type TaskType } from '../models/heads.ts';
import { multiTaskClassifier } from '../models/multitask.ts';
import { positionsOf, TextTokenizer } from '../tokenize/index.ts';
import { checkOutputDir, inputsOf, writeOutputDir, type OutputSpec } from '../util/output-dir.ts';
import { type TrainedModel, writeModelFiles } from './model-dir.ts';

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

const MAX_DEFAULT_LENGTH = 512;

/**
 * Which transformers head the tensors (by canonical name) hold, RoBERTa's two-layer `classifier.dense` + `out_proj`
 * or BERT's one `classifier` over the pooler, and how many outputs it has.
 */
function headOf(dir: string, tensors: ReadonlyMap<string, SafeTensor>): { style: HeadStyle; outputs: number } {
  const outputs = (name: string): number => tensors.get(name)?.shape[0] ?? 0;
  if (tensors.has('classifier.out_proj.weight')) return { style: 'roberta', outputs: outputs('classifier.out_proj.weight') };
  if (tensors.has('classifier.weight')) {
    if (!tensors.has('pooler.dense.weight')) {
      throw new XlmtError({
        code: 'KEY_MISMATCH',
        where: { file: dir, tensor: 'bert.pooler.dense.weight' },
        message: 'missing: the checkpoint has a classifier.weight but no pooler, and BertForSequenceClassification checkpoints carry both',
      });
    }
    return { style: 'bert', outputs: outputs('classifier.weight') };
  }
  throw new XlmtError({
    code: 'NOT_A_MODEL',
    where: { file: dir },
    message: 'holds no sequence-classification head: it is a base or masked-LM checkpoint',
    expected: 'classifier.weight (BERT), or classifier.dense and classifier.out_proj (RoBERTa, XLM-R)',
    hint: `train a classifier from it with xlmt train --init ${dir}`,
  });
}

export async function importClassifier(dir: string, out: string, options: ImportOptions): Promise<ImportedClassifier> {
  if (!TASK_NAME.test(options.task)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--task' }, message: `task name ${JSON.stringify(options.task)} cannot name parameters and outputs`, expected: `a name matching ${TASK_NAME}` });
  }
  if (!(options.threshold > 0 && options.threshold < 1)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--threshold' }, message: 'the multilabel threshold is not a probability', expected: 'a number in (0, 1)', received: String(options.threshold) });
  }
  const output: OutputSpec = { command: 'import', path: out, inputs: inputsOf({ '--from': dir, '--tokenizer': options.tokenizer }) };
  checkOutputDir(output);
  const checkpoint = await loadHfModel(dir);
  const hf = checkpoint.config;
  const warnings = [...checkpoint.warnings];
  const head = headOf(dir, new Map([...checkpoint.tensors].map(([key, tensor]) => [canonicalName(key), tensor])));
  let labels = hf.labels ? [...hf.labels] : null;
  if (!labels) {
    labels = Array.from({ length: head.outputs }, (_, i) => `LABEL_${i}`);
    warnings.push(`config.json names no labels (id2label); the head's ${head.outputs} outputs are called ${labels.join(', ')}`);
  }
  const configFile = join(dir, CONFIG_FILE);
  if (labels.length !== head.outputs) {
    throw new XlmtError({
      code: 'BAD_CONFIG',
      where: { file: configFile, field: 'id2label' },
      message: `config.json names ${labels.length} labels but the classifier has ${head.outputs} outputs`,
      expected: `${head.outputs} labels`,
      received: labels.join(', '),
    });
  }
  if (new Set(labels).size !== labels.length) {
    throw new XlmtError({ code: 'BAD_CONFIG', where: { file: configFile, field: 'id2label' }, message: 'repeats a label name', received: labels.join(', ') });
  }
  const type = options.type ?? (hf.extra['problem_type'] === 'multi_label_classification' ? 'multilabel' : 'multiclass');
  const schema: TaskSchema = makeSchema([makeTask(options.task, type, labels)], { kind: 'inline', file: null });

  const tokenizerPath = options.tokenizer ?? join(dir, TOKENIZER_FILE);
  let tokenizer: TextTokenizer;
  try {
    tokenizer = TextTokenizer.fromFile(tokenizerPath);
  } catch (e) {
    const cause = toXlmtError(e);
    throw new XlmtError(
      {
        code: cause.code === 'FILE_NOT_FOUND' || cause.code === 'IO_FAILED' ? cause.code : 'BAD_MODEL',
        where: { file: tokenizerPath },
        message: `cannot read the tokenizer: ${cause.problem}`,
        hint: 'give one with --tokenizer FILE',
      },
      { cause: e },
    );
  }
  if (tokenizer.vocabSize > hf.encoder.vocabSize) {
    throw new XlmtError({
      code: 'BAD_MODEL',
      where: { file: tokenizerPath },
      message: 'the tokenizer has more tokens than the encoder\'s vocabulary: not this model\'s tokenizer',
      expected: `at most ${hf.encoder.vocabSize} tokens`,
      received: `${tokenizer.vocabSize} tokens`,
      hint: 'give the checkpoint\'s own tokenizer with --tokenizer FILE',
    });
  }
  const limit = maxSequenceLength(hf);
  const maxLength = options.maxLength ?? Math.min(limit, MAX_DEFAULT_LENGTH);
  if (maxLength > limit) {
    throw new XlmtError({
      code: 'BAD_OPTION',
      where: { field: '--max-length' },
      message: `longer than the encoder's ${hf.encoder.maxPositionEmbeddings} positions allow`,
      expected: `at most ${limit}`,
      received: String(maxLength),
    });
  }

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
  await writeOutputDir(output, (tmp) => writeModelFiles(tmp, model));
  return { model, headStyle: head.style, report, warnings };
}

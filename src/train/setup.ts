// Everything a classifier run needs before its first step: data, tokenizer, encoder config, the training graph its
// objective builds (graph.ts, differentiated with or without QAT by differentiate.ts) and the initial weights, from
// scratch or mapped from --init.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingGraph } from '../autodiff/training-graph.ts';
import { formatKeyReport, type HfModelConfig, loadHfModel, mapCheckpoint, maxSequenceLength } from '../checkpoint/index.ts';
import { type CsvOptions, type Dataset, loadDataset, type LoadOptions, loadTaskSchema, type TaskSchema } from '../data/index.ts';
import { readUnlabeledTexts } from '../data/unlabeled.ts';
import type { Parameter } from '../ir/params.ts';
import { XlmtError } from '../errors/index.ts';
import { transformersHead } from '../models/heads.ts';
import { CHAR_NGRAM_PARAM, type CharNgramTable } from '../models/char-ngrams.ts';
import { initParams } from '../models/init.ts';
import { positionsOf, TextTokenizer } from '../tokenize/index.ts';
import { charNgramTableOf } from './char-ngrams.ts';
import { describeTeacher, loadTeachers, type TeacherRow, withoutGoldTasks } from './teacher.ts';
import { TRAIN_SHAPE, type TrainConfig } from './config.ts';
import { resolveShape, scratchConfig } from './encoder-shape.ts';
import { classificationGraph, type ClassifierGraph } from './graph.ts';
import { differentiate, type QatRun } from './differentiate.ts';
import type { Positions } from './feeds.ts';

export interface RunSetup {
  readonly schema: TaskSchema;
  readonly train: Dataset;
  readonly dev: Dataset | null;
  readonly tokenizer: TextTokenizer;
  readonly hf: HfModelConfig;
  readonly positions: Positions;
  readonly padId: number;
  readonly training: TrainingGraph;
  readonly params: Map<string, Parameter>;
  /** With `charNgrams`: the n-gram table the training graph's inputs are cut from. */
  readonly charNgrams: CharNgramTable | null;
  /** With `teacher`: the teacher's rows, soft targets for training beside `train`. */
  readonly teacher: readonly TeacherRow[];
  /**
   * Texts only online teachers label: the `transfer` files' and, with `goldLabels` off, the training data's
   * (first, in file order).
   */
  readonly transfer: readonly string[];
  /** With `qat`: the quantizers and what keeps their ranges; null for an fp32 run. */
  readonly qat: QatRun | null;
}

function tokenizerPath(config: TrainConfig): string {
  if (config.tokenizer) return config.tokenizer;
  if (config.init) return join(config.init, 'tokenizer.json');
  throw new XlmtError({
    code: 'MISSING_OPTION',
    message: 'no tokenizer given',
    where: { field: '--tokenizer' },
    hint: 'give --tokenizer FILE (train one with `xlmt tokenizer train`) or --init a checkpoint directory that has tokenizer.json',
  });
}

/** How the configuration's data files are read: the CSV mapping and the default language. */
export function readingOptions(config: TrainConfig): LoadOptions {
  // zod's optional fields may hold undefined; the data loader's options may not.
  const csv = config.csv ? (Object.fromEntries(Object.entries(config.csv).filter(([, v]) => v !== undefined)) as CsvOptions) : undefined;
  return { ...(csv ? { csv } : {}), ...(config.defaultLang ? { defaultLang: config.defaultLang } : {}) };
}

/**
 * The task a transformers classifier checkpoint's `classifier.*` head carries on into: the run's only task, when
 * the run has that class's head and the checkpoint's labels are the task's, in the same order. Any other head is
 * reported unused and the task's head starts fresh.
 */
function continuedClassifierTask(hf: HfModelConfig, schema: TaskSchema, config: TrainConfig): string | undefined {
  const [task, ...others] = schema.tasks;
  if (!task || others.length > 0 || !hf.labels || config.headStyle !== transformersHead(hf.modelType)) return undefined;
  const same = hf.labels.length === task.labels.length && hf.labels.every((label, i) => label === task.labels[i]);
  return same ? task.name : undefined;
}

/** The teachers' rows (one file, or an ensemble of several), without the tasks their texts have gold labels for. */
async function teacherRows(files: readonly string[], schema: TaskSchema, train: Dataset, log: (line: string) => void): Promise<TeacherRow[]> {
  if (files.length === 0) return [];
  const { rows, dropped, droppedRows } = withoutGoldTasks(await loadTeachers(files, schema), train.examples);
  const from = files.length === 1 ? files[0] : `the mean of ${files.length} teachers (${files.join(', ')})`;
  log(`teacher: ${rows.length} rows of soft targets from ${from}: ${describeTeacher(rows, schema)}`);
  if (dropped > 0) {
    const rowsGone = droppedRows > 0 ? `, and ${droppedRows} rows left with none` : '';
    log(`teacher: ${dropped} scores left out, for tasks their texts have gold labels for in ${train.file}${rowsGone}`);
  }
  return rows;
}

/** The texts only online teachers label (`transfer` files, and the training data's without `goldLabels`). */
async function transferTexts(config: TrainConfig, train: Dataset, log: (line: string) => void): Promise<string[]> {
  const texts: string[] = [];
  if (!config.goldLabels) {
    texts.push(...train.examples.map((e) => e.text));
    log(`gold labels off: the ${train.examples.length} texts of ${train.file} are labeled by the online teachers alone`);
  }
  if (config.transfer) {
    const corpus = await readUnlabeledTexts(config.transfer, { purpose: 'distil on', flag: '--transfer' });
    texts.push(...corpus.texts);
    const blank = corpus.blank > 0 ? ` (${corpus.blank} blank lines skipped)` : '';
    log(`transfer: ${corpus.texts.length} unlabeled texts from ${config.transfer.join(', ')}${blank}, labeled by the online teachers`);
  }
  return texts;
}

/** `graph` builds the training graph (default: the multi-task classification loss); its parameters are initialized here. */
export async function setupRun(config: TrainConfig, log: (line: string) => void, graph: ClassifierGraph = classificationGraph): Promise<RunSetup> {
  const givenSchema = config.tasks ? await loadTaskSchema(config.tasks) : undefined;
  const reading = readingOptions(config);
  const train = await loadDataset(config.train, { ...reading, ...(givenSchema ? { schema: givenSchema } : {}) });
  const schema = train.schema;
  if (!givenSchema) log(`tasks inferred from ${config.train}: ${schema.tasks.map((t) => `${t.name} (${t.type}, ${t.labels.length} labels)`).join(', ')}`);
  const dev = config.dev ? await loadDataset(config.dev, { ...reading, schema }) : null;
  const teacher = await teacherRows(config.teacher ?? [], schema, config.goldLabels ? train : { ...train, examples: [] }, log);
  const transfer = await transferTexts(config, train, log);
  const tokenizer = TextTokenizer.fromFile(tokenizerPath(config));
  const checkpoint = config.init ? await loadHfModel(config.init) : null;
  const hf = checkpoint ? checkpoint.config : scratchConfig(resolveShape(config.encoder, TRAIN_SHAPE), tokenizer, 'training');
  if (tokenizer.vocabSize > hf.encoder.vocabSize) {
    throw new XlmtError({
      code: 'TOKENIZER_MISMATCH',
      message: `more tokens than the embeddings (vocab_size) of ${config.init ? join(config.init, 'config.json') : 'the encoder built from scratch'}`,
      where: { file: tokenizer.source },
      expected: `at most ${hf.encoder.vocabSize} tokens`,
      received: `${tokenizer.vocabSize} tokens`,
      hint: 'use the tokenizer the checkpoint was trained with',
    });
  }
  if (config.maxLength > maxSequenceLength(hf)) {
    throw new XlmtError({
      code: 'BAD_OPTION',
      message: `longer than the encoder's ${hf.encoder.maxPositionEmbeddings} position embeddings allow`,
      where: { field: '--max-length' },
      expected: `at most ${maxSequenceLength(hf)}`,
      received: String(config.maxLength),
      hint: config.init ? 'lower --max-length' : 'lower --max-length or raise encoder.maxPositions in --config',
    });
  }
  const padId = tokenizer.special('pad', 'batching').id;
  const positions: Positions = positionsOf(hf);

  const charNgrams = config.charNgrams ? charNgramTableOf(tokenizer, hf.encoder.vocabSize, config.charNgrams) : null;
  if (charNgrams) log(`character ${config.charNgrams?.min}-${config.charNgrams?.max}-grams: ${charNgrams.size} shared by two or more of the ${hf.encoder.vocabSize} tokens`);

  const forward = graph({ hf, tasks: schema.tasks, config, charNgrams, ...(config.trainable ? { trainable: config.trainable } : {}) });
  const { training, qat } = differentiate(forward, config.qat);
  if (qat) {
    const how = qat.settings.activations === 'ema' ? 'input ranges as moving averages' : 'learned input steps, set from calibration batches';
    const words = qat.settings.wordEmbeddings ? ' and the word rows' : '';
    log(`quantization-aware training: fake int8 on the encoder's ${qat.weights.length} dense layers${words} (${qat.settings.weightBits}-bit weights), ${qat.layers.length} activation quantizers (${how}); pooler and heads fp32, as the int8 export leaves them`);
  }
  const params = initParams(training.graph, config.seed);
  // The n-gram rows start at zero: at step 0 every token's vector is its word embedding alone, from scratch or --init.
  params.get(CHAR_NGRAM_PARAM)?.data.fill(0);
  if (checkpoint) {
    // The n-gram table is never in a checkpoint (saved models have it folded in): it starts at zero.
    const expected = training.graph.params.filter((p) => p.name !== CHAR_NGRAM_PARAM).map((p) => ({ name: p.name, shape: p.shape as number[] }));
    const classifierTask = continuedClassifierTask(checkpoint.config, schema, config);
    const mapped = mapCheckpoint(expected, checkpoint.tensors, {
      source: config.init ?? '',
      // distill.*: what an objective trains beside the model (compress/distill/names.ts), never in a checkpoint.
      // <layer>.input_scale: QAT's learned steps, set from calibration batches (qat-calibration.ts).
      allowMissing: [/^heads\./, /^pooler\./, /^distill\./, /\.input_scale$/],
      ...(classifierTask ? { classifierTask } : {}),
    });
    for (const [name, p] of mapped.params) params.get(name)?.data.set(p.data);
    log(`initialized from ${config.init}:\n${formatKeyReport(mapped.report)}`);
  }
  if (!existsSync(config.out)) log(`run directory: ${config.out}`);
  return { schema, train, dev, tokenizer, hf, positions, padId, training, params, charNgrams, teacher, transfer, qat };
}

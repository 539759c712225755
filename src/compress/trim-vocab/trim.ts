// `xlmt trim-vocab`: a model or export directory → the same kind of directory with only the tokens a corpus
// needs. Reads the corpus once with the original tokenizer (usage.ts), chooses the ids (select.ts), writes the
// trimmed tokenizer.json, config.json, xlmt.json and weights (model.safetensors or onnx/model.onnx) into the
// output's temporary directory, and proves them there (prove.ts) before the directory takes its place: a failed
// proof writes nothing.
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONFIG_FILE, WEIGHTS_FILE } from '../../checkpoint/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { TOKENIZER_CONFIG_FILE } from '../../export/hf-tokenizer.ts';
import { ONNX_DIR, ONNX_FILE } from '../../infer/contract.ts';
import { MODEL_META_FILE, TASKS_FILE, TOKENIZER_FILE } from '../../model-dir/index.ts';
import { checkCorpusFile, readCorpusLines } from '../../tokenize/corpus.ts';
import { TextTokenizer } from '../../tokenize/index.ts';
import { checkOutputDir, inputsOf, writeOutputDir, type OutputSpec } from '../../util/output-dir.ts';
import { readVocabCheckpoint, writeTrimmedCheckpoint, type VocabCheckpoint } from './checkpoint.ts';
import type { IdMap } from './id-map.ts';
import { fixedPadBound, modelTokenIds, readModelFiles, resolveTrimSource, trimmedConfigJson, trimmedMetaJson, type TrimSource } from './model-files.ts';
import { findVocabTables, readOnnxModel, trimTables, type VocabTables } from './onnx-tables.ts';
import { prove, type Proof, type ProofInput } from './prove.ts';
import { sampleLines } from './sample.ts';
import { loadScorer, type Scorer } from './scorers.ts';
import { selectIds, type KeptBy } from './select.ts';
import { readTokenizerVocab, trimmedTokenizerJson } from './tokenizer-json.ts';
import { countUsage } from './usage.ts';

export interface TrimOptions {
  /** A run, model or export directory. */
  readonly model: string;
  readonly corpus: readonly string[];
  /** Keep tokens the corpus uses at least this many times (default 1). */
  readonly minCount?: number;
  /** Default: `<model>-trimmed` beside the model. */
  readonly out?: string;
  /** Files whose first `sampleLines` texts join the built-in sample in the proof. */
  readonly sample?: readonly string[];
  readonly sampleLines?: number;
  /** Texts scored by both models in the proof (default 500). */
  readonly checkSample?: number;
  readonly textField?: string;
  readonly threads?: number;
}

export interface TrimReport {
  readonly model: string;
  readonly kind: TrimSource['kind'];
  readonly out: string;
  readonly corpus: { readonly files: readonly string[]; readonly texts: number };
  readonly minCount: number;
  readonly rows: { readonly before: number; readonly after: number };
  readonly keptBy: KeptBy;
  /** The weights file (model.safetensors or onnx/model.onnx) before and after, in bytes. */
  readonly file: { readonly name: string; readonly bytesBefore: number; readonly bytesAfter: number };
  readonly proof: Proof;
}

export async function trimVocab(options: TrimOptions): Promise<TrimReport> {
  const minCount = options.minCount ?? 1;
  const sampleFiles = options.sample ?? [];
  const textField = options.textField;
  for (const [flag, value] of [['--min-count', minCount], ['--sample-lines', options.sampleLines ?? 1], ['--check-sample', options.checkSample ?? 1]] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: flag }, message: `${flag} must be a positive integer`, expected: 'an integer of at least 1', received: String(value) });
    }
  }
  if (options.corpus.length === 0) throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--corpus' }, message: 'no corpus file given', hint: 'name the text the trimmed model must read with --corpus FILE…' });
  const source = resolveTrimSource(options.model);
  const out = options.out ?? defaultOut(options.model);
  const output: OutputSpec = { command: 'trim-vocab', path: out, inputs: inputsOf({ '--model': [options.model, source.dir], '--corpus': options.corpus, '--sample': sampleFiles }) };
  checkOutputDir(output);
  for (const file of [...options.corpus, ...sampleFiles]) checkCorpusFile(file);

  const files = await readModelFiles(source.dir);
  const tokenizer = TextTokenizer.fromFile(join(source.dir, TOKENIZER_FILE));
  const vocab = readTokenizerVocab(tokenizer);
  const weights = await readWeights(source);
  const usage = await countUsage(tokenizer, options.corpus, textField);
  const { map, keptBy } = selectIds({
    vocab, counts: usage.counts, scripts: usage.scripts, minCount, rows: weights.rows, modelIds: modelTokenIds(files), keepBelow: fixedPadBound(files),
  });
  const provenance = { from: source.dir, corpus: [...options.corpus], minCount, rowsBefore: map.rowsBefore, rowsAfter: map.size };
  let proof: Proof | null = null;
  let bytesAfter = 0;
  await writeOutputDir(output, async (tmp) => {
    await writeFile(join(tmp, TOKENIZER_FILE), trimmedTokenizerJson(vocab, map));
    await writeFile(join(tmp, CONFIG_FILE), trimmedConfigJson(files, map));
    await writeFile(join(tmp, MODEL_META_FILE), trimmedMetaJson(files, map, provenance));
    await copyFile(join(source.dir, TASKS_FILE), join(tmp, TASKS_FILE));
    bytesAfter = await weights.write(map, tmp);
    proof = await proveTrimmed(source, { kind: source.kind, dir: tmp }, map, {
      corpus: readCorpusLines(options.corpus, textField === undefined ? {} : { textField }),
      sample: sampleLines(sampleFiles, options.sampleLines ?? 1000, textField),
      checkSample: options.checkSample ?? 500,
      threads: options.threads ?? 2,
    });
  });
  if (proof === null) throw new XlmtError({ code: 'INTERNAL', where: { api: 'trimVocab' }, message: 'the output was written without a proof' });
  return {
    model: source.dir,
    kind: source.kind,
    out,
    corpus: { files: [...options.corpus], texts: usage.texts },
    minCount,
    rows: { before: map.rowsBefore, after: map.size },
    keptBy,
    file: { name: weights.name, bytesBefore: weights.bytes, bytesAfter },
    proof,
  };
}

/** `runs/demo/train` → `runs/demo/train-trimmed`. */
function defaultOut(model: string): string {
  const trimmed = model.replace(/[\\/]+$/, '');
  return join(dirname(trimmed), `${basename(trimmed)}-trimmed`);
}

/** The weights of the source: their row count, their file's size, and how to write them trimmed into a directory. */
interface Weights {
  readonly rows: number;
  readonly name: string;
  readonly bytes: number;
  /**
   * Writes the trimmed weights (and the other files of this kind) into `dir`; returns the weights file's size.
   * Once only: it lets go of the original weights, so that the proof's two models are not held beside a third copy.
   */
  write(map: IdMap, dir: string): Promise<number>;
}

async function readWeights(source: TrimSource): Promise<Weights> {
  if (source.kind === 'model') {
    let checkpoint: VocabCheckpoint | null = await readVocabCheckpoint(source.dir);
    return {
      rows: checkpoint.rows,
      name: WEIGHTS_FILE,
      bytes: (await Promise.all(checkpoint.model.files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0),
      write: async (map, dir) => {
        const held = once(checkpoint);
        checkpoint = null;
        return (await stat(await writeTrimmedCheckpoint(held, map, dir))).size;
      },
    };
  }
  const path = join(source.dir, ONNX_DIR, ONNX_FILE);
  const bytes = await readFile(path);
  let tables: VocabTables | null = findVocabTables(readOnnxModel(bytes, path), path);
  return {
    rows: tables.rows,
    name: `${ONNX_DIR}/${ONNX_FILE}`,
    bytes: bytes.byteLength,
    write: async (map, dir) => {
      const held = once(tables);
      tables = null;
      const trimmed = trimTables(held, map, path);
      await mkdir(join(dir, ONNX_DIR), { recursive: true });
      await writeFile(join(dir, ONNX_DIR, ONNX_FILE), trimmed);
      const tokenizerConfig = join(source.dir, TOKENIZER_CONFIG_FILE);
      if (existsSync(tokenizerConfig)) await copyFile(tokenizerConfig, join(dir, TOKENIZER_CONFIG_FILE));
      return trimmed.byteLength;
    },
  };
}

function once<T>(held: T | null): T {
  if (held === null) throw new XlmtError({ code: 'INTERNAL', where: { api: 'trimVocab' }, message: 'the weights were written twice' });
  return held;
}

interface ProveSettings extends Pick<ProofInput, 'corpus' | 'sample' | 'checkSample'> {
  readonly threads: number;
}

async function proveTrimmed(source: TrimSource, trimmedSource: TrimSource, map: IdMap, settings: ProveSettings): Promise<Proof> {
  const scorers: Scorer[] = [];
  try {
    const original = await loadScorer(source, settings.threads);
    scorers.push(original);
    const trimmed = await loadScorer(trimmedSource, settings.threads);
    scorers.push(trimmed);
    return await prove({ original, trimmed, map, corpus: settings.corpus, sample: settings.sample, checkSample: settings.checkSample });
  } finally {
    await Promise.all(scorers.map((s) => s.model.release()));
  }
}

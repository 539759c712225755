// xlmt's ONNX classifier runtime against @huggingface/transformers' text-classification pipeline: the same exported
// single-task model, the same texts, the same ONNX Runtime build and threads; texts per second each, tokenization
// included on both sides, and whether the two give the same labels.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { DataError, issue } from '../data/issues.ts';
import { XlmtError } from '../errors/index.ts';
import { lengthBuckets } from '../infer/batching.ts';
import { OnnxClassifier } from '../infer/onnx-classifier.ts';
import type { TaskInfo } from '../infer/types.ts';
import { parseLine } from './jsonl.ts';
import { loadTransformersPipeline, type PipelineLabel, type TransformersClassifier } from './transformers-pipeline.ts';

export interface CompareOptions {
  /** An export directory of a single-task multiclass model (xlmt export). */
  readonly model: string;
  /** JSONL with a `text` field; the first `texts` rows are classified. */
  readonly data: string;
  readonly texts: number;
  readonly threads: number;
  /** Texts per forward pass on both sides. */
  readonly batchSize: number;
  /** Texts each side classifies, untimed, before timing. */
  readonly warmup: number;
  /**
   * Texts per timing segment. Every variant classifies segment k (in a rotating order) before any moves on to
   * k + 1, so a busy spell of a shared machine falls on all of them alike.
   */
  readonly segment: number;
  /** Timed passes over all texts per variant; figures are the median pass. */
  readonly rounds: number;
  /** Texts both sides also classify one call per text (0: skip), from the start of the texts. */
  readonly single: number;
}

export const COMPARE_DEFAULTS = { texts: 2000, threads: 2, batchSize: 32, warmup: 128, segment: 250, rounds: 1 } as const;

/** Where `xlmt bench compare` reads texts when --data is not given: xm-bench dev when present, else the demo's. */
export function defaultCompareData(): string {
  const xmBench = '../shared/data/xm-bench/dev.jsonl';
  return existsSync(xmBench) ? xmBench : 'data/demo/dev.jsonl';
}

export type VariantKey = 'xlmt' | 'xlmtSingle' | 'pipeline' | 'pipelineSorted' | 'pipelineSingle';

export interface VariantResult {
  readonly key: VariantKey;
  readonly name: string;
  /** What one pass does, in words. */
  readonly how: string;
  readonly texts: number;
  /** Median pass: the sum of its segments. */
  readonly seconds: number;
  readonly textsPerSec: number;
  /** texts/s of every timed pass. */
  readonly passes: readonly number[];
  /** Token positions the model runs in one pass, padding included, by xlmt's token counts (see tokenization). */
  readonly paddedTokens: number;
}

export interface CompareResult {
  readonly model: string;
  readonly task: string;
  readonly data: string;
  readonly texts: number;
  readonly threads: number;
  readonly batchSize: number;
  readonly segment: number;
  readonly rounds: number;
  readonly transformersVersion: string;
  /** Tokens per text as xlmt encodes them (special tokens included), and how many were cut to maxLength. */
  readonly tokens: { readonly total: number; readonly mean: number; readonly max: number; readonly maxLength: number; readonly truncated: number };
  /**
   * Tokenization alone, once over all texts in the calls the batched passes make: xlmt's native binding on all
   * texts, the pipeline's JS tokenizer per batch. `sameLength`: texts both tokenizers make the same number of tokens.
   */
  readonly tokenization: { readonly xlmtSeconds: number; readonly pipelineSeconds: number; readonly sameLength: number };
  /** In the order each round runs them; the one-call-per-text variants only when `single` > 0. */
  readonly variants: readonly VariantResult[];
  /**
   * xlmt texts/s ÷ pipeline texts/s. batched: xlmt's batches against the pipeline's input-order batches of the same
   * size (how each is used); sorted: against the pipeline on length-sorted batches; single: one text per call on
   * both sides (null when skipped); best: the faster xlmt variant against the fastest pipeline variant.
   */
  readonly ratios: { readonly batched: number; readonly sorted: number; readonly single: number | null; readonly best: number };
  readonly agreement: Agreement;
  /** 1-minute load average before and after: other processes on the machine share its cores. */
  readonly loadAverage: readonly [number, number];
}

export interface Agreement {
  /** Share of texts where both give the same top label (xlmt's batches against the pipeline's). */
  readonly labels: number;
  readonly disagreements: number;
  /** Disagreements on texts xlmt cut to maxLength: transformers.js cuts after adding special tokens, so the closing one is lost. */
  readonly disagreementsTruncated: number;
  /** How often xlmt gives each label: agreement means little when the model answers one label for everything. */
  readonly labelCounts: Readonly<Record<string, number>>;
  /** Largest |probability difference| of the pipeline's label, over texts neither side cut. */
  readonly maxScoreDiff: number;
}

/** The first `count` texts of a JSONL file with a `text` field. */
export async function readTexts(file: string, count: number): Promise<string[]> {
  if (!file.endsWith('.jsonl') && !file.endsWith('.ndjson')) {
    throw new XlmtError({ code: 'BAD_OPTION', message: 'bench compare reads JSONL', where: { field: '--data' }, expected: 'a .jsonl file, one {"text": …} object a line', received: file });
  }
  const lines = (await readFile(file, 'utf8')).split('\n');
  const texts: string[] = [];
  for (let i = 0; i < lines.length && texts.length < count; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const row = parseLine(file, i + 1, line);
    if (typeof row.text !== 'string') throw new DataError([issue('MISSING_TEXT', { file, line: i + 1 }, 'no "text" string field', { field: 'text' })]);
    texts.push(row.text);
  }
  if (texts.length < count) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `${file} has ${texts.length} texts, fewer than the ${count} asked for (--texts)`, where: { field: '--texts' }, expected: `at most ${texts.length}`, received: String(count) });
  }
  return texts;
}


function singleMulticlassTask(classifier: OnnxClassifier): TaskInfo {
  const [task, ...rest] = classifier.tasks;
  if (!task || rest.length > 0 || task.type !== 'multiclass') {
    const found = classifier.tasks.map((t) => `${t.name} (${t.type})`).join(', ');
    throw new XlmtError({
      code: 'NOT_A_MODEL',
      message: `${classifier.dir} has tasks ${found}; the comparison needs one multiclass task`,
      where: { field: '--model' },
      hint: 'transformers.js\'s text-classification pipeline reads the logits output, which only a single-task export has',
    });
  }
  return task;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < xs.length; start += size) out.push(xs.slice(start, start + size));
  return out;
}

/** Pipeline calls of `size` texts each, answers in input order. */
async function pipelineInChunks(pipe: TransformersClassifier, texts: readonly string[], size: number): Promise<PipelineLabel[]> {
  const out: PipelineLabel[] = [];
  for (const chunk of chunks(texts, size)) out.push(...(await pipe.classify(chunk)));
  return out;
}

/** Indices of `texts` shortest first by characters, as a user can sort without the tokenizer. */
function byCharLength(texts: readonly string[]): number[] {
  return texts.map((_, i) => i).sort((a, b) => (texts[a] as string).length - (texts[b] as string).length);
}

/** Pipeline calls of `size` texts after sorting them by character length; answers back in input order. */
async function pipelineSortedChunks(pipe: TransformersClassifier, texts: readonly string[], size: number): Promise<PipelineLabel[]> {
  const order = byCharLength(texts);
  const out = new Array<PipelineLabel>(texts.length);
  for (const rows of chunks(order, size)) {
    const labels = await pipe.classify(rows.map((r) => texts[r] as string));
    rows.forEach((r, k) => { out[r] = labels[k] as PipelineLabel; });
  }
  return out;
}

async function oneByOne<T>(classify: (texts: readonly string[]) => Promise<T[]>, texts: readonly string[]): Promise<T[]> {
  const out: T[] = [];
  for (const text of texts) out.push(...(await classify([text])));
  return out;
}

interface Timed<T> {
  readonly seconds: number;
  readonly value: T;
}

async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  const start = performance.now();
  const value = await run();
  return { seconds: (performance.now() - start) / 1000, value };
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function agreement(ours: readonly { label: string; scores: Readonly<Record<string, number>> }[], theirs: readonly PipelineLabel[], truncated: readonly boolean[]): Agreement {
  let disagreements = 0;
  let disagreementsTruncated = 0;
  let maxScoreDiff = 0;
  const labelCounts: Record<string, number> = {};
  ours.forEach((o, i) => {
    labelCounts[o.label] = (labelCounts[o.label] ?? 0) + 1;
    const t = theirs[i] as PipelineLabel;
    if (o.label !== t.label) {
      disagreements++;
      if (truncated[i]) disagreementsTruncated++;
    }
    if (!truncated[i]) maxScoreDiff = Math.max(maxScoreDiff, Math.abs((o.scores[t.label] ?? NaN) - t.score));
  });
  return { labels: ours.length === 0 ? 1 : 1 - disagreements / ours.length, disagreements, disagreementsTruncated, labelCounts, maxScoreDiff };
}

type MulticlassAnswer = { readonly label: string; readonly scores: Readonly<Record<string, number>> };

interface Variant {
  readonly key: VariantKey;
  readonly name: string;
  readonly how: string;
  /** Texts it classifies, from the start. */
  readonly count: number;
  readonly run: (segment: readonly string[]) => Promise<unknown>;
  /** The batches it makes of a segment, as indices of the texts: for the padding figures. */
  readonly batches: (segment: readonly number[]) => number[][];
}

/** [start, end) of each segment of `n` texts. */
function segments(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += size) out.push([start, Math.min(n, start + size)]);
  return out;
}

export async function compareWithTransformers(o: CompareOptions, log: (line: string) => void = () => {}): Promise<CompareResult> {
  const load1 = loadavg()[0] as number;
  const texts = await readTexts(o.data, o.texts);
  const classifier = await OnnxClassifier.load(o.model, { threads: o.threads, batchSize: o.batchSize });
  const pipe = await loadTransformersPipeline(o.model, o.threads);
  try {
    const task = singleMulticlassTask(classifier);
    const { ids, truncated } = await classifier.encode(texts);
    const lengths = ids.map((x) => x.length);
    const xlmtClassify = async (batch: readonly string[]): Promise<MulticlassAnswer[]> =>
      (await classifier.classify(batch)).map((p) => {
        const t = p.tasks[task.name];
        if (!t || !('label' in t)) throw new XlmtError({ code: 'INTERNAL', message: 'no label in xlmt\'s answer', where: { task: task.name } });
        return t;
      });
    const pipelineClassify = (batch: readonly string[]): Promise<PipelineLabel[]> => pipe.classify(batch);

    const n = texts.length;
    const singleTexts = texts.slice(0, o.single);
    const b = o.batchSize;
    // The batched variants keep their answers (of the last round) for the agreement figures.
    let ours: MulticlassAnswer[] = [];
    let theirs: PipelineLabel[] = [];
    const variants: Variant[] = [
      {
        key: 'xlmt', name: `xlmt OnnxClassifier, batches of ${b}`, count: n,
        how: `classify(${o.segment} texts): native tokenizers encode, length-sorted batches of ${b} padded to their longest, probs:${task.name}`,
        run: async (segment) => { ours.push(...(await xlmtClassify(segment))); },
        batches: (segment) => lengthBuckets(segment.map((i) => ids[i] as Int32Array), b).map((rows) => rows.map((r) => segment[r] as number)),
      },
      {
        key: 'pipeline', name: `transformers.js pipeline, batches of ${b}`, count: n,
        how: `pipe(${b} texts) in input order: JS tokenizer, each batch padded to its longest, logits → softmax → top label`,
        run: async (segment) => { theirs.push(...(await pipelineInChunks(pipe, segment, b))); },
        batches: (segment) => chunks(segment, b),
      },
      {
        key: 'pipelineSorted', name: `transformers.js pipeline, sorted batches of ${b}`, count: n,
        how: `as above after sorting each ${o.segment} texts by character length (sort included)`,
        run: (segment) => pipelineSortedChunks(pipe, segment, b),
        batches: (segment) => chunks(byCharLength(segment.map((i) => texts[i] as string)).map((r) => segment[r] as number), b),
      },
      ...(singleTexts.length === 0 ? [] : [
        {
          key: 'xlmtSingle', name: 'xlmt OnnxClassifier, one text per call', count: singleTexts.length,
          how: 'classify([text]): batch 1, no padding',
          run: (segment) => oneByOne(xlmtClassify, segment),
          batches: (segment) => segment.map((i) => [i]),
        },
        {
          key: 'pipelineSingle', name: 'transformers.js pipeline, one text per call', count: singleTexts.length,
          how: 'pipe(text): batch 1, no padding',
          run: (segment) => oneByOne(pipelineClassify, segment),
          batches: (segment) => segment.map((i) => [i]),
        },
      ] satisfies Variant[]),
    ];

    log(`warm-up: ${o.warmup} texts through each variant`);
    const warm = texts.slice(0, o.warmup);
    await xlmtClassify(warm);
    await pipelineInChunks(pipe, warm, b);
    await oneByOne(xlmtClassify, warm.slice(0, b));
    await oneByOne(pipelineClassify, warm.slice(0, b));

    const ourTokens = await timed(() => classifier.encode(texts));
    const theirTokens = await timed(async () => chunks(texts, b).flatMap((chunk) => pipe.tokenCounts(chunk)));
    const tokenization = {
      xlmtSeconds: ourTokens.seconds,
      pipelineSeconds: theirTokens.seconds,
      sameLength: theirTokens.value.filter((count, i) => count === lengths[i]).length,
    };
    log(`tokenization: xlmt ${ourTokens.seconds.toFixed(2)} s, transformers.js ${theirTokens.seconds.toFixed(2)} s, same token count on ${tokenization.sameLength} of ${n} texts`);

    const seconds = new Map<VariantKey, number[]>(variants.map((v) => [v.key, []]));
    for (let round = 1; round <= o.rounds; round++) {
      ours = [];
      theirs = [];
      const spent = new Map<VariantKey, number>(variants.map((v) => [v.key, 0]));
      for (const [k, [start, end]] of segments(n, o.segment).entries()) {
        for (let j = 0; j < variants.length; j++) {
          const v = variants[(k + j) % variants.length] as Variant;
          if (start >= v.count) continue;
          const { seconds: s } = await timed(() => v.run(texts.slice(start, Math.min(end, v.count))));
          spent.set(v.key, (spent.get(v.key) ?? 0) + s);
        }
      }
      for (const v of variants) {
        const s = spent.get(v.key) ?? NaN;
        seconds.get(v.key)?.push(s);
        log(`round ${round}: ${v.name}: ${(v.count / s).toFixed(1)} texts/s`);
      }
    }

    const results = variants.map((v): VariantResult => {
      const passes = seconds.get(v.key) ?? [];
      const m = median(passes);
      const paddedTokens = segments(v.count, o.segment)
        .flatMap(([start, end]) => v.batches(Array.from({ length: end - start }, (_, k) => start + k)))
        .reduce((sum, rows) => sum + rows.length * Math.max(...rows.map((r) => lengths[r] as number)), 0);
      return { key: v.key, name: v.name, how: v.how, texts: v.count, seconds: m, textsPerSec: v.count / m, passes: passes.map((s) => v.count / s), paddedTokens };
    });
    const rate = (key: VariantKey): number | null => results.find((r) => r.key === key)?.textsPerSec ?? null;
    const best = (keys: readonly VariantKey[]): number => Math.max(...keys.map((k) => rate(k) ?? 0));
    const xlmtRate = rate('xlmt') as number;
    const [xlmtSingle, pipelineSingle] = [rate('xlmtSingle'), rate('pipelineSingle')];
    return {
      model: o.model, task: task.name, data: o.data, texts: n, threads: o.threads, batchSize: b, segment: o.segment, rounds: o.rounds,
      transformersVersion: pipe.version,
      tokens: { total: lengths.reduce((sum, l) => sum + l, 0), mean: lengths.reduce((sum, l) => sum + l, 0) / n, max: Math.max(...lengths), maxLength: classifier.maxLength, truncated: truncated.filter(Boolean).length },
      tokenization,
      variants: results,
      ratios: {
        batched: xlmtRate / (rate('pipeline') as number),
        sorted: xlmtRate / (rate('pipelineSorted') as number),
        single: xlmtSingle !== null && pipelineSingle !== null ? xlmtSingle / pipelineSingle : null,
        best: best(['xlmt', 'xlmtSingle']) / best(['pipeline', 'pipelineSorted', 'pipelineSingle']),
      },
      agreement: agreement(ours, theirs, truncated),
      loadAverage: [load1, loadavg()[0] as number],
    };
  } finally {
    await classifier.release();
    await pipe.release();
  }
}

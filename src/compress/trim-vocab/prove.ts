// The proof a trimmed model gives before it is kept:
// 1. Tokenization: on every corpus text and every sample text, the original tokenizer's pieces are compared with
//    the trimmed tokenizer's. A text whose pieces all survived must come out as exactly the same pieces (ids
//    renumbered); one that does not is a failed proof, named by its file and line.
// 2. Probabilities: a sample of those texts, and a few random sequences of kept ids, run through both models in
//    ONNX Runtime; every probability must agree within PROBABILITY_TOLERANCE.
// Texts with a dropped piece tokenize differently by construction (into smaller pieces, or unknown): they are
// counted, not compared.
import { XlmtError, preview } from '../../errors/index.ts';
import { batchedProbabilities } from '../../infer/batching.ts';
import type { CorpusLine } from '../../tokenize/corpus.ts';
import { encodeIds } from '../../tokenize/index.ts';
import { Random } from '../../util/random.ts';
import type { IdMap } from './id-map.ts';
import type { Scorer } from './scorers.ts';
import { chunks, CHUNK, tokenIds } from './usage.ts';

/** Only the order of float additions may differ (none does: the same rows meet the same kernels). */
export const PROBABILITY_TOLERANCE = 1e-6;
/** Random kept-id sequences scored beside the texts, so that the model check never runs on nothing. */
const RANDOM_SEQUENCES = 16;

export interface TokenizationFigures {
  readonly texts: number;
  /** Texts whose pieces all survived, and so tokenize exactly as before. */
  readonly identical: number;
  /** Tokens (special tokens left out) of the original tokenization, and how many of them were unknown. */
  readonly tokensBefore: number;
  readonly unknownBefore: number;
  /** The same for the trimmed tokenization. */
  readonly tokensAfter: number;
  readonly unknownAfter: number;
}

export interface ProbabilityCheck {
  /** Texts and random id sequences scored by both models. */
  readonly texts: number;
  readonly sequences: number;
  readonly maxAbsDiff: number;
  readonly tolerance: number;
}

export interface Proof {
  readonly corpus: TokenizationFigures;
  readonly sample: TokenizationFigures;
  readonly probabilities: ProbabilityCheck;
}

export interface ProofInput {
  readonly original: Scorer;
  readonly trimmed: Scorer;
  readonly map: IdMap;
  readonly corpus: AsyncIterable<CorpusLine>;
  readonly sample: AsyncIterable<CorpusLine>;
  /** Texts scored by both models (half at most from the sample, the rest from the corpus). */
  readonly checkSample: number;
}

export async function prove(input: ProofInput): Promise<Proof> {
  const fromCorpus = new Reservoir<CorpusLine>(input.checkSample, 1);
  const fromSample = new Reservoir<CorpusLine>(input.checkSample, 2);
  const corpus = await compareTokenization(input, input.corpus, fromCorpus);
  const sample = await compareTokenization(input, input.sample, fromSample);
  const sampled = fromSample.items.slice(0, Math.floor(input.checkSample / 2));
  const scored = [...sampled, ...fromCorpus.items.slice(0, input.checkSample - sampled.length)];
  const probabilities = await compareProbabilities(input, scored);
  return { corpus, sample, probabilities };
}

async function compareTokenization(input: ProofInput, lines: AsyncIterable<CorpusLine>, candidates: Reservoir<CorpusLine>): Promise<TokenizationFigures> {
  const { original, trimmed, map } = input;
  const unkBefore = original.tokenizer.specialTokens.unk?.id ?? -1;
  const unkAfter = trimmed.tokenizer.specialTokens.unk?.id ?? -1;
  const framing = [await original.tokenizer.specialTokenCount(), await trimmed.tokenizer.specialTokenCount()] as const;
  const figures = { texts: 0, identical: 0, tokensBefore: 0, unknownBefore: 0, tokensAfter: 0, unknownAfter: 0 };
  for await (const chunk of chunks(lines, CHUNK)) {
    const texts = chunk.map((c) => c.text);
    const [before, after] = await Promise.all([tokenIds(original.tokenizer, texts), tokenIds(trimmed.tokenizer, texts)]);
    chunk.forEach((line, i) => {
      const a = before[i] as Int32Array;
      const b = after[i] as Int32Array;
      figures.texts++;
      figures.tokensBefore += a.length - framing[0];
      figures.tokensAfter += b.length - framing[1];
      figures.unknownBefore += count(a, unkBefore);
      figures.unknownAfter += count(b, unkAfter);
      if (!a.every((id) => map.newId(id) >= 0)) return;
      if (!sameIds(a, b, map)) throw tokenizedDifferently(line, a, b, input);
      figures.identical++;
      candidates.add(line);
    });
  }
  return figures;
}

async function compareProbabilities(input: ProofInput, lines: readonly CorpusLine[]): Promise<ProbabilityCheck> {
  const { original, trimmed, map } = input;
  const texts = lines.map((l) => l.text);
  const [before, after] = await Promise.all([encodeIds(original.tokenizer, texts, original.maxLength), encodeIds(trimmed.tokenizer, texts, trimmed.maxLength)]);
  lines.forEach((line, i) => {
    if (!sameIds(before.ids[i] as Int32Array, after.ids[i] as Int32Array, map)) throw tokenizedDifferently(line, before.ids[i] as Int32Array, after.ids[i] as Int32Array, input);
  });
  const random = randomKeptIds(map, original.maxLength);
  const idsBefore = [...before.ids, ...random];
  const idsAfter = [...after.ids, ...random.map((ids) => ids.map((id) => map.newId(id)))];
  const p0 = await batchedProbabilities(original.model, idsBefore, original.tasks, { padId: original.padId, batchSize: 32 });
  const p1 = await batchedProbabilities(trimmed.model, idsAfter, trimmed.tasks, { padId: trimmed.padId, batchSize: 32 });
  let maxAbsDiff = 0;
  for (const task of original.tasks) {
    const a = p0.get(task.name) as Float32Array;
    const b = p1.get(task.name) as Float32Array;
    const width = task.labels.length;
    for (let i = 0; i < a.length; i++) {
      const diff = Math.abs((a[i] as number) - (b[i] as number));
      if (!(diff <= PROBABILITY_TOLERANCE)) throw probabilitiesDiffer(lines[Math.floor(i / width)], Math.floor(i / width) - lines.length, task.name, diff);
      maxAbsDiff = Math.max(maxAbsDiff, diff);
    }
  }
  return { texts: lines.length, sequences: random.length, maxAbsDiff, tolerance: PROBABILITY_TOLERANCE };
}

/** Whether `after` is `before` with every id renumbered. */
function sameIds(before: Int32Array, after: Int32Array, map: IdMap): boolean {
  return before.length === after.length && before.every((id, t) => map.newId(id) === after[t]);
}

function count(ids: Int32Array, id: number): number {
  let n = 0;
  for (const x of ids) if (x === id) n++;
  return n;
}

/** Sequences of kept ids (original numbering) of random lengths up to the longest input. */
function randomKeptIds(map: IdMap, maxLength: number): Int32Array[] {
  const random = new Random(7);
  return Array.from({ length: RANDOM_SEQUENCES }, () => Int32Array.from({ length: 1 + random.int(maxLength) }, () => map.newToOld[random.int(map.size)] as number));
}

function tokenizedDifferently(line: CorpusLine, before: Int32Array, after: Int32Array, input: ProofInput): XlmtError {
  const at = Array.from(before).findIndex((id, t) => input.map.newId(id) !== after[t]);
  const position = at < 0 ? Math.min(before.length, after.length) : at;
  const pieces = (ids: Int32Array, tokenizer: Scorer['tokenizer']): string => Array.from(ids.subarray(position, position + 8), (id) => tokenizer.idToToken(id) ?? `#${id}`).join(' ');
  return new XlmtError({
    code: 'TRIM_CHECK_FAILED',
    where: { file: line.file, line: line.line },
    message: `the trimmed tokenizer splits this text differently although every piece of it was kept (${preview(line.text)}); nothing was written`,
    expected: `the original pieces from token ${position}: ${pieces(before, input.original.tokenizer)}`,
    received: pieces(after, input.trimmed.tokenizer),
    hint: 'a bug in xlmt trim-vocab for this tokenizer; please report it with the tokenizer.json and this text',
    details: { text: line.text, position },
  });
}

/** `line` is undefined for a random id sequence (`sequence` is then its number). */
function probabilitiesDiffer(line: CorpusLine | undefined, sequence: number, task: string, diff: number): XlmtError {
  return new XlmtError({
    code: 'TRIM_CHECK_FAILED',
    where: line ? { file: line.file, line: line.line, task } : { task, api: `random id sequence ${sequence}` },
    message: `the trimmed model's probabilities differ from the original's${line ? ` on this text (${preview(line.text)})` : ''}; nothing was written`,
    expected: `a largest |Δp| of at most ${PROBABILITY_TOLERANCE}`,
    received: String(diff),
    hint: 'a bug in xlmt trim-vocab for this model; please report it with the model directory',
  });
}

/** A uniform sample of at most `size` items from a stream (reservoir sampling), in stream order. */
class Reservoir<T> {
  readonly #kept: { item: T; index: number }[] = [];
  readonly #random: Random;
  #seen = 0;

  constructor(private readonly size: number, seed: number) {
    this.#random = new Random(seed);
  }

  add(item: T): void {
    const index = this.#seen++;
    if (this.#kept.length < this.size) this.#kept.push({ item, index });
    else {
      const slot = this.#random.int(index + 1);
      if (slot < this.size) this.#kept[slot] = { item, index };
    }
  }

  get items(): T[] {
    return [...this.#kept].sort((a, b) => a.index - b.index).map((k) => k.item);
  }
}

// Character n-gram embeddings, fastText's subword vectors (Bojanowski et al., 2017) under a BERT encoder: while
// training, a token's input vector is its own word-embedding row plus the mean of the rows of the character
// n-grams it contains, so a rare token shares what it has in common with frequent ones (a stem, an ending, a
// script) instead of learning alone from the few sentences it occurs in.
//
// Which n-grams a token holds depends on the vocabulary only, so the sum folds into an ordinary word-embedding
// table (`foldCharNgrams`): the models a run saves are plain BERT/XLM-R encoders, and nothing downstream
// (evaluation, export, serving, compression) knows the n-grams were there.
import { preview, XlmtError } from '../errors/index.ts';
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { TensorData } from '../ir/tensor.ts';

export interface CharNgramRange {
  readonly min: number;
  readonly max: number;
}

/**
 * How a vocabulary marks words: WordPiece prefixes the pieces that continue a word (`##`); SentencePiece and
 * byte-level BPE mark the pieces that start one (`▁`, `Ġ`).
 */
export type PieceStyle = { readonly continuation: string } | { readonly wordStart: string };

/** The character n-grams of every vocabulary token, as n-gram ids (compressed rows). */
export interface CharNgramTable {
  readonly range: CharNgramRange;
  /** Distinct n-grams, each shared by at least two tokens: the rows of the n-gram embedding table. */
  readonly size: number;
  /** Token id t holds the n-grams ngrams[offsets[t]] … ngrams[offsets[t + 1] - 1]; vocabulary + 1 entries. */
  readonly offsets: Int32Array;
  readonly ngrams: Int32Array;
}

export const CHAR_NGRAM_IDS = 'char_ngram_ids';
export const CHAR_NGRAM_WEIGHTS = 'char_ngram_weights';
export const CHAR_NGRAM_SLOTS = 'char_ngram_slots';
/** The n-gram table's name in a run's checkpoints (never in a saved model, which has it folded in). */
export const CHAR_NGRAM_PARAM = 'embeddings.char_ngram_embeddings.weight';

/**
 * The text a token's n-grams are cut from: lowercased, with `<` where a word starts. null for tokens without
 * n-grams (special tokens, and the bare continuation or word-start marker).
 */
export function pieceText(token: string, style: PieceStyle): string | null {
  let text: string;
  if ('continuation' in style) text = token.startsWith(style.continuation) ? token.slice(style.continuation.length) : `<${token}`;
  else text = token.startsWith(style.wordStart) ? `<${token.slice(style.wordStart.length)}` : token;
  return text === '' || text === '<' ? null : text.toLowerCase();
}

function ngramsOf(text: string, range: CharNgramRange): Set<string> {
  const chars = Array.from(text); // code points: a character outside the BMP is one character, not two halves
  const found = new Set<string>();
  for (let n = range.min; n <= range.max; n++) {
    for (let i = 0; i + n <= chars.length; i++) found.add(chars.slice(i, i + n).join(''));
  }
  return found;
}

/**
 * The n-gram table of a vocabulary, `tokens[id]` being token id's text (null: a special token). An n-gram that
 * only one token holds is left out: that token's own row already learns whatever it would.
 */
export function buildCharNgramTable(tokens: readonly (string | null)[], range: CharNgramRange, style: PieceStyle): CharNgramTable {
  if (!Number.isInteger(range.min) || range.min < 1 || !Number.isInteger(range.max) || range.max < range.min) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'not a character n-gram range', where: { api: 'buildCharNgramTable', field: 'range' }, expected: 'whole numbers 1 ≤ min ≤ max', received: preview(range) });
  }
  const perToken = tokens.map((token) => {
    const text = token === null ? null : pieceText(token, style);
    return text === null ? [] : [...ngramsOf(text, range)];
  });
  const holders = new Map<string, number>();
  for (const grams of perToken) for (const gram of grams) holders.set(gram, (holders.get(gram) ?? 0) + 1);
  const ids = new Map<string, number>();
  for (const [gram, count] of holders) if (count >= 2) ids.set(gram, ids.size);
  const offsets = new Int32Array(tokens.length + 1);
  const ngrams: number[] = [];
  perToken.forEach((grams, t) => {
    for (const gram of grams) {
      const id = ids.get(gram);
      if (id !== undefined) ngrams.push(id);
    }
    offsets[t + 1] = ngrams.length;
  });
  return { range, size: ids.size, offsets, ngrams: Int32Array.from(ngrams) };
}

/**
 * A batch's n-grams. Each distinct n-gram of the batch is looked up once and each distinct token averaged once:
 * the n-gram table's gradient then has one row per n-gram used, and no padding.
 */
export interface CharNgramInputs {
  /** int64 [ngrams]: the distinct n-grams of the batch's tokens. */
  readonly ids: Value;
  /** float32 [tokens, ngrams]: 1/n where distinct token t holds n-gram j (of its n), else 0. */
  readonly weights: Value;
  /** int64 [batch, seq]: each position's row of `weights`. */
  readonly slots: Value;
  /** Rows of the n-gram embedding table. */
  readonly rows: number;
}

export function charNgramInputs(g: GraphBuilder, table: CharNgramTable): CharNgramInputs {
  return {
    ids: g.input(CHAR_NGRAM_IDS, 'int64', ['ngrams']),
    weights: g.input(CHAR_NGRAM_WEIGHTS, 'float32', ['tokens', 'ngrams']),
    slots: g.input(CHAR_NGRAM_SLOTS, 'int64', ['batch', 'seq']),
    rows: Math.max(1, table.size),
  };
}

/** The mean n-gram vector of every position's token, [batch, seq, hidden]; call inside the `embeddings` scope. */
export function charNgramEmbedding(g: GraphBuilder, inputs: CharNgramInputs, hidden: number): Value {
  const { op } = g;
  const rows = op.Gather(g.param('char_ngram_embeddings.weight', [inputs.rows, hidden]), inputs.ids); // [ngrams, hidden]
  return op.Gather(op.MatMul(inputs.weights, rows), inputs.slots); // [tokens, hidden] → [batch, seq, hidden]
}

/** The n-gram inputs of a batch of token ids, [batch, seq]. */
export function charNgramFeeds(table: CharNgramTable, inputIds: BigInt64Array, batch: number, seq: number): Record<string, TensorData> {
  const { offsets, ngrams } = table;
  const slotOf = new Map<number, number>();
  const slots = new BigInt64Array(inputIds.length);
  inputIds.forEach((big, position) => {
    const id = Number(big);
    let slot = slotOf.get(id);
    if (slot === undefined) {
      slot = slotOf.size;
      slotOf.set(id, slot);
    }
    slots[position] = BigInt(slot);
  });
  const column = new Map<number, number>();
  for (const id of slotOf.keys()) {
    for (let j = offsets[id] as number; j < (offsets[id + 1] as number); j++) {
      const gram = ngrams[j] as number;
      if (!column.has(gram)) column.set(gram, column.size);
    }
  }
  // A batch without n-grams still feeds one (weight 0) so that no tensor is empty.
  const width = Math.max(1, column.size);
  const weights = new Float32Array(slotOf.size * width);
  for (const [id, slot] of slotOf) {
    const start = offsets[id] as number;
    const n = (offsets[id + 1] as number) - start;
    for (let j = start; j < start + n; j++) weights[slot * width + (column.get(ngrams[j] as number) as number)] = 1 / n;
  }
  const ids = column.size > 0 ? BigInt64Array.from(column.keys(), BigInt) : new BigInt64Array(1);
  return {
    [CHAR_NGRAM_IDS]: { dtype: 'int64', shape: [width], data: ids },
    [CHAR_NGRAM_WEIGHTS]: { dtype: 'float32', shape: [slotOf.size, width], data: weights },
    [CHAR_NGRAM_SLOTS]: { dtype: 'int64', shape: [batch, seq], data: slots },
  };
}

/** Word embeddings [vocab, hidden] with each token's mean n-gram row added: what the model computes per token. */
export function foldCharNgrams(words: Float32Array, ngramRows: Float32Array, table: CharNgramTable, hidden: number): Float32Array {
  const folded = Float32Array.from(words);
  const vocab = table.offsets.length - 1;
  if (words.length !== vocab * hidden) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the word embeddings and the n-gram table disagree on the vocabulary', where: { api: 'foldCharNgrams' }, expected: `${vocab} rows`, received: `${words.length / hidden} rows` });
  }
  for (let t = 0; t < vocab; t++) {
    const start = table.offsets[t] as number;
    const n = (table.offsets[t + 1] as number) - start;
    for (let j = 0; j < n; j++) {
      const row = (table.ngrams[start + j] as number) * hidden;
      for (let h = 0; h < hidden; h++) folded[t * hidden + h] = (folded[t * hidden + h] as number) + (ngramRows[row + h] as number) / n;
    }
  }
  return folded;
}

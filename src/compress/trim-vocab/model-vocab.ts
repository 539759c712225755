// The `model` part of a tokenizer.json, for each model type trimming supports: its tokens and ids, what a
// one-character piece looks like, the pieces every trimmed vocabulary needs, and the model rewritten over the kept
// ids. Why each model keeps what it keeps:
// - Unigram (Viterbi over piece scores): every piece of a text's best segmentation kept keeps that segmentation
//   best. An unknown character scores (lowest piece score − 10), so the lowest-scoring piece is kept too: without
//   it the penalty would change and with it the segmentation of texts holding unknown characters.
// - WordPiece (greedy longest match): when every chosen piece is kept, no longer kept piece can match first.
// - BPE (merges in rank order): a kept piece is built through intermediate pieces, so every merge that yields a
//   kept piece is kept with its two parts, recursively (`close`); merges whose parts and result survive are written.
// Byte fallback pieces (<0x00>…<0xFF>) and byte-level BPE's 256-character alphabet are always kept: any text
// tokenizes with them.
import { z } from 'zod';
import type { IdMap } from './id-map.ts';
import { TokenizerError } from '../../tokenize/errors.ts';

export const TRIMMABLE_MODELS = ['Unigram', 'WordPiece', 'BPE'] as const;
export type TrimmableModel = (typeof TRIMMABLE_MODELS)[number];

export interface ModelVocab {
  readonly type: TrimmableModel;
  /** The model's own tokens and their ids (added tokens outside the model are not here). */
  readonly ids: ReadonlyMap<string, number>;
  /** The model's unk token id, if it has one. */
  readonly unkId: number | null;
  /** The character a piece stands for once its word-start or continuation marker is removed, or null. */
  singleChar(token: string): string | null;
  /** Ids every trimmed vocabulary keeps (see the file comment), whatever the corpus. */
  readonly required: readonly number[];
  /** Marks in `keep` what the kept pieces need to come out as before (BPE: the merges building them). */
  close(keep: Uint8Array): void;
  /** The model object over the kept ids, renumbered. */
  rewrite(map: IdMap): Record<string, unknown>;
}

const idTable = z.record(z.string(), z.number().int().min(0));

const unigramModel = z.looseObject({
  type: z.literal('Unigram'),
  unk_id: z.number().int().min(0).nullish(),
  vocab: z.array(z.tuple([z.string(), z.number()])),
  byte_fallback: z.boolean().optional(),
});

const wordPieceModel = z.looseObject({
  type: z.literal('WordPiece'),
  unk_token: z.string(),
  continuing_subword_prefix: z.string().optional(),
  vocab: idTable,
});

const bpeModel = z.looseObject({
  type: z.literal('BPE'),
  dropout: z.number().nullish(),
  unk_token: z.string().nullish(),
  continuing_subword_prefix: z.string().nullish(),
  end_of_word_suffix: z.string().nullish(),
  byte_fallback: z.boolean().optional(),
  vocab: idTable,
  merges: z.union([z.array(z.string()), z.array(z.tuple([z.string(), z.string()]))]),
});

/** The model part of `tokenizer` (a parsed tokenizer.json); `source` names the file in errors. */
export function modelVocab(tokenizer: Readonly<Record<string, unknown>>, source: string): ModelVocab {
  const model = tokenizer['model'];
  const type = typeof model === 'object' && model !== null ? (model as Record<string, unknown>)['type'] : undefined;
  switch (type) {
    case 'Unigram':
      return unigram(parseModel(unigramModel, model, source), metaspaceMarker(tokenizer['pre_tokenizer']));
    case 'WordPiece':
      return wordPiece(parseModel(wordPieceModel, model, source));
    case 'BPE':
      return bpe(parseModel(bpeModel, model, source), usesByteLevel(tokenizer['pre_tokenizer']), source);
    default:
      throw new TokenizerError({
        code: 'TOKENIZER_UNSUPPORTED',
        message: 'vocabulary trimming cannot rewrite this tokenizer model',
        where: { file: source, field: 'model.type' },
        expected: TRIMMABLE_MODELS.join(', '),
        received: JSON.stringify(type ?? null),
        hint: 'trim a model whose tokenizer.json has a Unigram (XLM-R), WordPiece (BERT) or BPE model',
      });
  }
}

function parseModel<T extends z.ZodType>(schema: T, model: unknown, source: string): z.infer<T> {
  const parsed = schema.safeParse(model);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new TokenizerError({
    code: 'TOKENIZER_INVALID',
    message: `the model is not a valid one of its type: ${issue?.message ?? 'unexpected shape'}`,
    where: { file: source, field: ['model', ...(issue?.path ?? [])].join('.') },
  });
}

function unigram(model: z.infer<typeof unigramModel>, marker: string): ModelVocab {
  const ids = new Map(model.vocab.map(([piece], id) => [piece, id]));
  let lowest = 0;
  model.vocab.forEach(([, score], id) => {
    if (score < (model.vocab[lowest]?.[1] ?? 0)) lowest = id;
  });
  const required = model.vocab.length > 0 ? [lowest] : [];
  if (model.byte_fallback) required.push(...byteFallbackIds(ids));
  return {
    type: 'Unigram',
    ids,
    unkId: model.unk_id ?? null,
    singleChar: (token) => oneChar(stripStart(token, marker)),
    required,
    close: () => {},
    rewrite: (map) => ({
      ...model,
      ...(model.unk_id === null || model.unk_id === undefined ? {} : { unk_id: map.keptId(model.unk_id, 'the unk piece') }),
      vocab: model.vocab.filter((_, id) => map.newId(id) >= 0),
    }),
  };
}

function wordPiece(model: z.infer<typeof wordPieceModel>): ModelVocab {
  const ids = new Map(Object.entries(model.vocab));
  const prefix = model.continuing_subword_prefix ?? '##';
  return {
    type: 'WordPiece',
    ids,
    unkId: ids.get(model.unk_token) ?? null,
    singleChar: (token) => oneChar(stripStart(token, prefix)),
    required: [],
    close: () => {},
    rewrite: (map) => ({ ...model, vocab: renumbered(ids, map) }),
  };
}

function bpe(model: z.infer<typeof bpeModel>, byteLevel: boolean, source: string): ModelVocab {
  if (model.dropout !== null && model.dropout !== undefined && model.dropout > 0) {
    throw new TokenizerError({
      code: 'TOKENIZER_UNSUPPORTED',
      message: 'a BPE model with dropout tokenizes at random, so no trimmed tokenizer can be proven to tokenize the same',
      where: { file: source, field: 'model.dropout' },
      expected: 'null or 0',
      received: String(model.dropout),
      hint: 'set model.dropout to null in tokenizer.json (dropout is for training only)',
    });
  }
  const ids = new Map(Object.entries(model.vocab));
  const prefix = model.continuing_subword_prefix ?? '';
  const suffix = model.end_of_word_suffix ?? '';
  const merges = model.merges.map((m) => (typeof m === 'string' ? splitMerge(m) : m));
  // The merged token as the tokenizers library forms it: `a` + `b` without the continuation prefix's bytes.
  const prefixBytes = Buffer.byteLength(prefix);
  const mergeIds = merges.map(([a, b]) => {
    const result = a + Buffer.from(b, 'utf8').subarray(prefixBytes).toString('utf8');
    return [ids.get(a) ?? -1, ids.get(b) ?? -1, ids.get(result) ?? -1] as const;
  });
  const required = model.byte_fallback ? byteFallbackIds(ids) : [];
  if (byteLevel) required.push(...BYTE_LEVEL_ALPHABET.flatMap((c) => ids.get(c) ?? []));
  return {
    type: 'BPE',
    ids,
    unkId: typeof model.unk_token === 'string' ? (ids.get(model.unk_token) ?? null) : null,
    singleChar: (token) => oneChar(stripEnd(stripStart(token, prefix), suffix)),
    required,
    close: (keep) => {
      const madeBy = new Map<number, (readonly [number, number])[]>();
      for (const [a, b, result] of mergeIds) {
        if (a >= 0 && b >= 0 && result >= 0) madeBy.set(result, [...(madeBy.get(result) ?? []), [a, b]]);
      }
      const pending = [...keep.keys()].filter((id) => keep[id] === 1);
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        for (const parts of madeBy.get(id) ?? []) {
          for (const part of parts) {
            if (keep[part] === 1) continue;
            keep[part] = 1;
            pending.push(part);
          }
        }
      }
    },
    rewrite: (map) => ({
      ...model,
      vocab: renumbered(ids, map),
      merges: model.merges.filter((_, i) => (mergeIds[i] as readonly number[]).every((id) => map.newId(id) >= 0)),
    }),
  };
}

function splitMerge(merge: string): [string, string] {
  const parts = merge.split(' ');
  return parts.length === 2 ? [parts[0] as string, parts[1] as string] : ['', ''];
}

function renumbered(ids: ReadonlyMap<string, number>, map: IdMap): Record<string, number> {
  const kept: [string, number][] = [];
  for (const [token, id] of ids) {
    const newId = map.newId(id);
    if (newId >= 0) kept.push([token, newId]);
  }
  return Object.fromEntries(kept.sort((a, b) => a[1] - b[1]));
}

function stripStart(token: string, marker: string): string {
  return marker !== '' && token.length > marker.length && token.startsWith(marker) ? token.slice(marker.length) : token;
}

function stripEnd(token: string, marker: string): string {
  return marker !== '' && token.length > marker.length && token.endsWith(marker) ? token.slice(0, -marker.length) : token;
}

function oneChar(text: string): string | null {
  const chars = [...text];
  return chars.length === 1 ? (chars[0] as string) : null;
}

function byteFallbackIds(ids: ReadonlyMap<string, number>): number[] {
  return Array.from({ length: 256 }, (_, b) => ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1).filter((id) => id >= 0);
}

/** GPT-2's byte-to-character table (bytes_to_unicode): printable bytes stand for themselves, the rest from U+0100 on. */
const BYTE_LEVEL_ALPHABET: readonly string[] = (() => {
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    return String.fromCodePoint(printable ? b : next++);
  });
})();

/** The pre-tokenizer parts: itself, or the members of a Sequence. */
function preTokenizers(pre: unknown): Record<string, unknown>[] {
  if (typeof pre !== 'object' || pre === null) return [];
  const record = pre as Record<string, unknown>;
  return record['type'] === 'Sequence' && Array.isArray(record['pretokenizers']) ? record['pretokenizers'].flatMap(preTokenizers) : [record];
}

function usesByteLevel(pre: unknown): boolean {
  return preTokenizers(pre).some((p) => p['type'] === 'ByteLevel');
}

/** Metaspace's word-start character (▁ unless the file says otherwise). */
function metaspaceMarker(pre: unknown): string {
  const metaspace = preTokenizers(pre).find((p) => p['type'] === 'Metaspace');
  const replacement = metaspace?.['replacement'];
  return typeof replacement === 'string' && replacement !== '' ? replacement : '\u2581';
}

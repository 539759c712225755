// A run's character n-gram table, cut from its tokenizer's vocabulary (see models/char-ngrams.ts), and the
// folding of the n-gram rows into the word embeddings for every model the run evaluates or saves.
import { preview, XlmtError } from '../errors/index.ts';
import type { ParamStore, Parameter } from '../ir/params.ts';
import { buildCharNgramTable, CHAR_NGRAM_PARAM, type CharNgramRange, type CharNgramTable, foldCharNgrams, type PieceStyle } from '../models/char-ngrams.ts';
import type { TextTokenizer } from '../tokenize/index.ts';

const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

interface TokenizerModel {
  readonly type?: string;
  readonly continuing_subword_prefix?: string | null;
  readonly vocab?: unknown;
}

interface TokenizerFile {
  readonly model?: TokenizerModel;
  readonly added_tokens?: readonly { readonly id?: number; readonly special?: boolean }[];
}

/** How the tokenizer's model marks words, from tokenizer.json's `model`. */
function pieceStyleOf(tokenizer: TextTokenizer, file: TokenizerFile): PieceStyle {
  const model = file.model ?? {};
  switch (model.type) {
    case 'WordPiece':
      return { continuation: model.continuing_subword_prefix ?? '##' };
    case 'Unigram':
      return { wordStart: '\u2581' };
    case 'BPE': {
      const vocab = model.vocab && typeof model.vocab === 'object' ? Object.keys(model.vocab) : [];
      return { wordStart: vocab.some((t) => t.startsWith('\u0120')) ? '\u0120' : '\u2581' };
    }
    default:
      throw new XlmtError({
        code: 'TOKENIZER_MISMATCH',
        message: 'character n-grams need a WordPiece, Unigram or BPE tokenizer',
        where: { file: tokenizer.source, field: 'model.type' },
        expected: '"WordPiece", "Unigram" or "BPE"',
        received: preview(model.type ?? null),
        hint: 'train without --char-ngrams, or with a tokenizer of one of those types',
      });
  }
}

/** The n-gram table of the encoder's vocabulary: ids the tokenizer does not have and special tokens hold none. */
export function charNgramTableOf(tokenizer: TextTokenizer, vocabSize: number, range: CharNgramRange): CharNgramTable {
  const file = JSON.parse(tokenizer.json) as TokenizerFile;
  const added = (file.added_tokens ?? []).flatMap((t) => (t.special && t.id !== undefined ? [t.id] : []));
  const special = new Set([...added, ...Object.values(tokenizer.specialTokens).flatMap((t) => (t ? [t.id] : []))]);
  const tokens = Array.from({ length: vocabSize }, (_, id) => (special.has(id) ? null : tokenizer.idToToken(id)));
  return buildCharNgramTable(tokens, range, pieceStyleOf(tokenizer, file));
}

/** The parameters with the n-gram rows folded into the word embeddings: a plain encoder's, to evaluate or save. */
export function foldedParams(params: ParamStore, table: CharNgramTable): Map<string, Parameter> {
  const words = params.get(WORD_EMBEDDINGS);
  const ngrams = params.get(CHAR_NGRAM_PARAM);
  if (!words || !ngrams) throw new Error(`internal: folding character n-grams needs ${WORD_EMBEDDINGS} and ${CHAR_NGRAM_PARAM}`);
  const hidden = words.shape[1] as number;
  const folded = new Map([...params].filter(([name]) => name !== CHAR_NGRAM_PARAM));
  folded.set(WORD_EMBEDDINGS, { ...words, data: foldCharNgrams(words.data, ngrams.data, table, hidden) });
  return folded;
}

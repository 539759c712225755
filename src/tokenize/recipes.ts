// The two tokenizer families xlmt trains, as their Hugging Face models define them: XLM-R's SentencePiece
// Unigram and multilingual BERT's WordPiece (normalizer, pre-tokenizer, decoder, special tokens, post-processor).
import {
  AddedToken,
  Tokenizer,
  Unigram,
  WordPiece,
  bertNormalizer,
  bertPreTokenizer,
  bertProcessing,
  lowercase as lowercaseNormalizer,
  metaspaceDecoder,
  metaspacePreTokenizer,
  nfkcNormalizer,
  nmt,
  robertaProcessing,
  sequenceNormalizer,
  wordPieceDecoder,
  type NativeTokenizer,
} from './native.ts';
import { preview, TokenizerError } from './errors.ts';
import { codePoints, type TrainedPiece } from './vocab.ts';

export type TokenizerType = 'unigram' | 'wordpiece';

export interface Recipe {
  readonly type: TokenizerType;
  /** Special tokens in id order; a recipe may place some at the end of the vocabulary (see `trailingSpecials`). */
  readonly leadingSpecials: readonly string[];
  readonly trailingSpecials: readonly string[];
  /** Most pieces the binding's default trainer produces (its vocab_size, which cannot be set from Node). */
  readonly trainerCap: number;
  readonly isAlphabet: (token: string) => boolean;
  /** An empty tokenizer whose normalizer and pre-tokenizer shape the training text. */
  trainer(lowercase: boolean): NativeTokenizer;
  /** The trained model's pieces in priority order, from the JSON the binding saved. */
  trainedPieces(tokenizerJson: unknown): TrainedPiece[];
  /** The finished tokenizer: special tokens, then `pieces` in order. */
  build(pieces: readonly TrainedPiece[], lowercase: boolean): NativeTokenizer;
}

// XLM-R: <s>=0, <pad>=1, </s>=2, <unk>=3 (fairseq's dictionary order), <mask> last.
const XLMR_LEADING = ['<s>', '<pad>', '</s>', '<unk>'] as const;

/**
 * SentencePiece's nmt_nfkc, which XLM-R's model uses: NMT clean-up (control characters dropped; tab, newline,
 * zero-width and other odd spaces turned into ' ') then NFKC. The clean-up also matters for training: the
 * binding's trainer reads its file with each line's '\n', which would otherwise become a top piece.
 */
function unigramNormalizer(lowercase: boolean) {
  const steps = [nmt(), nfkcNormalizer()];
  if (lowercase) steps.push(lowercaseNormalizer());
  return sequenceNormalizer(steps);
}

export const unigramRecipe: Recipe = {
  type: 'unigram',
  leadingSpecials: XLMR_LEADING,
  trailingSpecials: ['<mask>'],
  trainerCap: 8000,
  isAlphabet: (token) => codePoints(token) === 1,
  trainer(lowercase) {
    const tokenizer = new Tokenizer(Unigram.empty());
    tokenizer.setNormalizer(unigramNormalizer(lowercase));
    tokenizer.setPreTokenizer(metaspacePreTokenizer());
    return tokenizer;
  },
  trainedPieces(json) {
    const vocab = modelField(json, 'vocab');
    if (!Array.isArray(vocab)) throw trainerOutput('the trained Unigram model has no vocab array');
    const pieces = vocab.map((entry: unknown): TrainedPiece => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        throw trainerOutput(`a trained Unigram vocab entry is not [piece, score]: ${preview(entry)}`);
      }
      return { token: entry[0], score: entry[1] };
    });
    return pieces.sort((a, b) => b.score - a.score);
  },
  build(pieces, lowercase) {
    const vocab: [string, number][] = [
      ...XLMR_LEADING.map((t): [string, number] => [t, 0]),
      ...pieces.map((p): [string, number] => [p.token, p.score]),
      ['<mask>', 0],
    ];
    const tokenizer = new Tokenizer(Unigram.init(vocab, { unkId: XLMR_LEADING.indexOf('<unk>') }));
    tokenizer.setNormalizer(unigramNormalizer(lowercase));
    tokenizer.setPreTokenizer(metaspacePreTokenizer());
    tokenizer.setDecoder(metaspaceDecoder());
    // As in XLM-R's tokenizer.json: "<mask>" swallows the space before it, so "a <mask>." masks one word.
    tokenizer.addAddedTokens([
      ...XLMR_LEADING.map((t) => new AddedToken(t, true)),
      new AddedToken('<mask>', true, { leftStrip: true }),
    ]);
    tokenizer.setPostProcessor(robertaProcessing(['</s>', 2], ['<s>', 0], true, true));
    return tokenizer;
  },
};

// BERT: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4 (mBERT's vocab.txt puts them at 0, 100–103).
const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

function bertLikeNormalizer(lowercase: boolean) {
  // Uncased BERT also strips accents; cased BERT keeps both.
  return bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase });
}

export const wordPieceRecipe: Recipe = {
  type: 'wordpiece',
  leadingSpecials: BERT_SPECIALS,
  trailingSpecials: [],
  trainerCap: 30000,
  isAlphabet: (token) => codePoints(token) === 1 || (token.startsWith('##') && codePoints(token) === 3),
  trainer(lowercase) {
    const tokenizer = new Tokenizer(WordPiece.empty());
    tokenizer.setNormalizer(bertLikeNormalizer(lowercase));
    tokenizer.setPreTokenizer(bertPreTokenizer());
    return tokenizer;
  },
  trainedPieces(json) {
    const vocab = modelField(json, 'vocab');
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw trainerOutput('the trained WordPiece model has no vocab object');
    const entries = Object.entries(vocab as Record<string, unknown>).map(([token, id]): [string, number] => {
      if (typeof id !== 'number') throw trainerOutput(`the trained WordPiece vocab entry ${preview(token)} has id ${preview(id)}`);
      return [token, id];
    });
    // Ids follow the trainer's order: alphabet first, then merges from most to least frequent.
    return entries.sort((a, b) => a[1] - b[1]).map(([token]) => ({ token, score: 0 }));
  },
  build(pieces, lowercase) {
    const tokens = [...BERT_SPECIALS, ...pieces.map((p) => p.token)];
    const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
    const tokenizer = new Tokenizer(WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##' }));
    tokenizer.setNormalizer(bertLikeNormalizer(lowercase));
    tokenizer.setPreTokenizer(bertPreTokenizer());
    tokenizer.setDecoder(wordPieceDecoder('##', true));
    tokenizer.addSpecialTokens([...BERT_SPECIALS]);
    tokenizer.setPostProcessor(bertProcessing(['[SEP]', 3], ['[CLS]', 2]));
    return tokenizer;
  },
};

function modelField(json: unknown, field: string): unknown {
  const model: unknown = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['model'] : undefined;
  return typeof model === 'object' && model !== null ? (model as Record<string, unknown>)[field] : undefined;
}

/** The trainer wrote a model this module cannot read: the tokenizers binding changed its output. */
function trainerOutput(problem: string): TokenizerError {
  return new TokenizerError({ code: 'TOKENIZER_TRAINING_FAILED', message: problem, hint: 'the tokenizers library\'s output changed; please report it with its version' });
}

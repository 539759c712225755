// Trains an XLM-R-style Unigram or a BERT-style WordPiece tokenizer on a corpus with the `tokenizers` binding.
//
// The binding trains only from files and only with the model's default trainer, so: the corpus goes to a
// temporary file, the default trainer runs, and vocab size / minimum frequency / special tokens are applied
// to its output (vocab.ts) before the final tokenizer is assembled (recipes.ts). That trainer stops at a fixed
// number of pieces; a larger WordPiece vocabulary is filled with the corpus's most frequent whole words the
// trained pieces split (wholeWords), which is what further WordPiece merges would mostly add.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusFileChunks, writeCorpusFile, type Corpus } from './corpus.ts';
import { preview, reason, TokenizerError } from './errors.ts';
import { encodeTexts, type NativeTokenizer } from './native.ts';
import { unigramRecipe, wordPieceRecipe, type Recipe, type TokenizerType } from './recipes.ts';
import { TextTokenizer } from './tokenizer.ts';
import { selectPieces } from './vocab.ts';

export interface TrainOptions {
  readonly type: TokenizerType;
  /** Final vocabulary size, special tokens included; an upper bound when the corpus has fewer pieces. */
  readonly vocabSize: number;
  /** Drop pieces (not single characters) the trained tokenizer uses fewer times than this on the corpus. Default 0: keep all. */
  readonly minFrequency?: number;
  /**
   * WordPiece beyond the trainer's pieces: the least times a whole word must occur to be added. Default 2.
   */
  readonly minWordCount?: number;
  /** Lowercase (and, for WordPiece, strip accents as uncased BERT does). Default false. */
  readonly lowercase?: boolean;
  readonly onProgress?: (event: TrainEvent) => void;
}

export type TrainEvent =
  | { readonly stage: 'corpus'; readonly texts: number; readonly characters: number; readonly seconds: number }
  | { readonly stage: 'trained'; readonly pieces: number; readonly seconds: number }
  | {
      readonly stage: 'done';
      readonly vocabSize: number;
      readonly alphabet: number;
      readonly droppedRare: number;
      readonly droppedForSize: number;
      /** WordPiece: whole words added after the trainer's pieces to reach the vocabulary size. */
      readonly wholeWords: number;
      readonly seconds: number;
    };

export function recipeFor(type: TokenizerType): Recipe {
  switch (type) {
    case 'unigram':
      return unigramRecipe;
    case 'wordpiece':
      return wordPieceRecipe;
  }
}

export async function trainTokenizer(corpus: Corpus, options: TrainOptions): Promise<TextTokenizer> {
  const recipe = recipeFor(options.type);
  const specials = [...recipe.leadingSpecials, ...recipe.trailingSpecials];
  const { vocabSize, minFrequency = 0, lowercase = false } = options;
  checkTrainOptions(options, recipe, specials.length);
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;

  const dir = mkdtempSync(join(tmpdir(), 'xlmt-tokenizer-'));
  try {
    const corpusPath = join(dir, 'corpus.txt');
    const stats = await writeCorpusFile(corpus, corpusPath);
    if (stats.texts === 0) throw new TokenizerError({ code: 'CORPUS_EMPTY', message: 'the training corpus has no non-empty texts', hint: 'check the --corpus files (and --text-field for JSONL)' });
    progress({ stage: 'corpus', ...stats, seconds: seconds() });

    const trainer = recipe.trainer(lowercase);
    try {
      trainer.train([corpusPath]); // synchronous: blocks the event loop while the native trainer runs
    } catch (e) {
      throw new TokenizerError({ code: 'TOKENIZER_TRAINING_FAILED', message: `the tokenizers library failed to train a ${recipe.type} model: ${reason(e)}` }, { cause: e });
    }
    const reserved = new Set(specials);
    const trained = recipe.trainedPieces(savedJson(trainer, join(dir, 'trained.json'))).filter((p) => !reserved.has(p.token));
    progress({ stage: 'trained', pieces: trained.length, seconds: seconds() });

    const usage = minFrequency > 0 ? await countUsage(recipe.build(trained, lowercase), corpusPath) : null;
    const selection = selectPieces(trained, { budget: vocabSize - specials.length, isAlphabet: recipe.isAlphabet, minFrequency, usage });
    if (selection.alphabet + specials.length > vocabSize) {
      throw new TokenizerError({
        code: 'BAD_OPTION',
        message:
          `too small for this corpus: its alphabet has ${selection.alphabet} ${recipe.type} pieces ` +
          `(single characters${recipe.type === 'wordpiece' ? ' and their ## forms' : ''}) plus ${specials.length} special tokens`,
        where: { field: 'vocabSize' },
        expected: `at least ${selection.alphabet + specials.length}`,
        received: String(vocabSize),
      });
    }
    const room = vocabSize - specials.length - selection.kept.length;
    const words = room > 0 && recipe.type === 'wordpiece'
      ? await wholeWords(recipe.build(selection.kept, lowercase), corpusPath, room, options.minWordCount ?? 2)
      : [];
    const final = recipe.build([...selection.kept, ...words.map((token) => ({ token, score: 0 }))], lowercase);
    const finalPath = join(dir, 'tokenizer.json');
    final.save(finalPath, true);
    const tokenizer = TextTokenizer.fromJSON(readFileSync(finalPath, 'utf8'), `trained ${recipe.type} tokenizer`);
    const { alphabet, droppedRare, droppedForSize } = selection;
    progress({ stage: 'done', vocabSize: tokenizer.vocabSize, alphabet, droppedRare, droppedForSize, wholeWords: words.length, seconds: seconds() });
    return tokenizer;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkTrainOptions(options: TrainOptions, recipe: Recipe, specialCount: number): void {
  const { vocabSize, minFrequency = 0 } = options;
  const max = recipe.trainerCap + specialCount;
  if (!Number.isInteger(vocabSize) || vocabSize <= specialCount) {
    throw new TokenizerError({ code: 'BAD_OPTION', message: 'not enough room for the special tokens', where: { field: 'vocabSize' }, expected: `an integer above ${specialCount}`, received: preview(vocabSize) });
  }
  if (vocabSize > max && recipe.type !== 'wordpiece') {
    throw new TokenizerError({
      code: 'BAD_OPTION',
      message:
        `more than a ${recipe.type} tokenizer trained with the tokenizers Node binding can have: ` +
        `the binding only exposes the default trainer, which stops at ${recipe.trainerCap} pieces (+ ${specialCount} special tokens)`,
      where: { field: 'vocabSize' },
      expected: `at most ${max}`,
      received: String(vocabSize),
    });
  }
  if (options.minWordCount !== undefined && (!Number.isInteger(options.minWordCount) || options.minWordCount < 1)) {
    throw new TokenizerError({ code: 'BAD_OPTION', message: 'not a count', where: { field: 'minWordCount' }, expected: 'an integer ≥ 1', received: preview(options.minWordCount) });
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 0) {
    throw new TokenizerError({ code: 'BAD_OPTION', message: 'not a count', where: { field: 'minFrequency' }, expected: 'an integer ≥ 0', received: preview(minFrequency) });
  }
}

/** The binding can only serialize to a file; read it back. */
function savedJson(tokenizer: NativeTokenizer, path: string): unknown {
  tokenizer.save(path);
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** How often `tokenizer` uses each token on the corpus file, read back in chunks. */
async function countUsage(tokenizer: NativeTokenizer, corpusPath: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const chunk of corpusFileChunks(corpusPath, 2048)) {
    for (const encoding of await encodeTexts(tokenizer, chunk, false)) {
      for (const token of encoding.getTokens()) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * The corpus's most frequent words (as the tokenizer normalizes and pre-tokenizes them) that `tokenizer` splits into
 * several pieces, at most `room` of them, each seen at least `minCount` times; most frequent first, ties in code
 * point order. A word is rebuilt from its WordPiece pieces (`##` continues it); words with an unknown piece are
 * skipped, since their text is not recoverable.
 */
export async function wholeWords(tokenizer: NativeTokenizer, corpusPath: string, room: number, minCount: number): Promise<string[]> {
  const counts = new Map<string, number>();
  for await (const chunk of corpusFileChunks(corpusPath, 2048)) {
    for (const encoding of await encodeTexts(tokenizer, chunk, false)) {
      let word = '';
      let pieces = 0;
      let known = true;
      const flush = (): void => {
        if (pieces > 1 && known) counts.set(word, (counts.get(word) ?? 0) + 1);
        word = '';
        pieces = 0;
        known = true;
      };
      for (const token of encoding.getTokens()) {
        if (!token.startsWith('##')) flush();
        if (token === '[UNK]') known = false;
        word += pieces === 0 ? token : token.slice(2);
        pieces++;
      }
      flush();
    }
  }
  return [...counts].filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, room)
    .map(([w]) => w);
}

// Cuts a trained vocabulary down to a size and a minimum usage, always keeping its alphabet.
//
// Why this exists: the `tokenizers` Node binding trains only with the model's *default* trainer
// (Unigram: 8,000 pieces; WordPiece: 30,000 tokens; min frequency 0; no special tokens), so vocab size and
// minimum frequency are applied here, to the trainer's output, in the trainer's own priority order.

export interface TrainedPiece {
  readonly token: string;
  /** Unigram log-probability; WordPiece has none (0) and is ranked by merge order instead. */
  readonly score: number;
}

export interface Selection {
  /** Kept pieces, in the priority order they came in. */
  readonly kept: TrainedPiece[];
  /** How many kept pieces are alphabet (single characters, and their ## forms for WordPiece). */
  readonly alphabet: number;
  readonly droppedRare: number;
  readonly droppedForSize: number;
}

export interface SelectOptions {
  /** Room left for trained pieces once the special tokens are placed. */
  readonly budget: number;
  readonly isAlphabet: (token: string) => boolean;
  /** Pieces other than the alphabet used fewer times than this on the corpus are dropped (when `usage` is given). */
  readonly minFrequency: number;
  readonly usage: ReadonlyMap<string, number> | null;
}

/**
 * `pieces` come in priority order (Unigram: score descending; WordPiece: merge order, which is the order
 * a smaller BPE/WordPiece training run would have stopped in). The alphabet is always kept, since dropping a
 * character turns every word containing it into unk; the caller checks it fits the budget.
 */
export function selectPieces(pieces: readonly TrainedPiece[], options: SelectOptions): Selection {
  const alphabet = pieces.filter((p) => options.isAlphabet(p.token)).length;
  let room = options.budget - alphabet;
  let droppedRare = 0;
  let droppedForSize = 0;
  const kept = pieces.filter((p) => {
    if (options.isAlphabet(p.token)) return true;
    if (options.usage && (options.usage.get(p.token) ?? 0) < options.minFrequency) {
      droppedRare++;
      return false;
    }
    if (room <= 0) {
      droppedForSize++;
      return false;
    }
    room--;
    return true;
  });
  return { kept, alphabet, droppedRare, droppedForSize };
}

export const codePoints = (token: string): number => [...token].length;

// BERT's token masking for masked-LM pretraining: which tokens to predict, and what the model sees in their place.
//
// Choices, and why:
// - Special tokens are never chosen, nor drawn as random replacements: [CLS]/<s>, [SEP]/</s> and padding carry no
//   text (BERT's create_pretraining_data skips [CLS] and [SEP]), and [UNK] and [MASK] are no targets worth learning
//   (transformers' DataCollatorForLanguageModeling excludes all of a tokenizer's special ids the same way).
//   Padding is also excluded by its attention mask, so a pad id shared with a real token cannot hide a pad.
// - Each maskable token is chosen independently with `maskProbability`, as transformers' collator does: the masked
//   count varies a little from batch to batch, and the expected rate is exactly the one asked for.
// - At least one token per batch (when the batch has a maskable token): with none, `mlm_positions` is empty and the
//   masked-LM loss, a mean over masked tokens, is 0/0 = NaN. One per batch, not one per sequence (as BERT's
//   original script does), so short sequences do not raise the masking rate; it matters only for tiny batches.
import type { EncodedBatch, TextTokenizer } from '../tokenize/index.ts';
import { mixSeed, Random } from '../util/random.ts';
import { PretrainError } from './errors.ts';

/** The ids masking needs, taken from a tokenizer by `maskingVocab`. */
export interface MaskingVocab {
  /** The id that replaces most chosen tokens ([MASK] / <mask>). */
  readonly maskId: number;
  /** Ids never chosen and never drawn as replacements: pad, cls/bos, sep/eos, unk, mask. */
  readonly specialIds: readonly number[];
  /** Random replacements are drawn from [0, vocabSize) without `specialIds`. */
  readonly vocabSize: number;
}

export interface MaskingOptions {
  /** Share of maskable tokens chosen for prediction. Default 0.15 (BERT). */
  readonly maskProbability?: number;
  /** Share of chosen tokens replaced by the mask id. Default 0.8. */
  readonly maskReplace?: number;
  /** Share of chosen tokens replaced by a random non-special id. Default 0.1; the rest stay unchanged. */
  readonly randomReplace?: number;
}

/** Which masking of a run: the same (seed, step) always masks the same batch the same way. */
export interface MaskingDraw {
  readonly seed: number;
  readonly step: number;
}

export interface MaskedTokens {
  /** A copy of the batch's input ids with the chosen tokens replaced; [batch*seq], row-major. */
  readonly inputIds: BigInt64Array;
  /** Flat indices b*seq + t of the chosen tokens, ascending: the `mlm_positions` input. */
  readonly positions: BigInt64Array;
  /** The original ids at `positions`: the `mlm_labels` input. */
  readonly labels: BigInt64Array;
  /** Tokens that could have been chosen (real, non-special). */
  readonly maskable: number;
}

const DEFAULTS = { maskProbability: 0.15, maskReplace: 0.8, randomReplace: 0.1 } as const;

/** The masking ids of `tokenizer`: its mask token (required) and every special token it has. */
export function maskingVocab(tokenizer: TextTokenizer): MaskingVocab {
  const mask = tokenizer.specialTokens.mask;
  if (mask === null) {
    throw new PretrainError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: tokenizer.source },
      message: 'no mask token, which masked-LM pretraining needs',
      expected: 'a [MASK] or <mask> token',
      hint: "add one to the tokenizer's added_tokens, or train the tokenizer with xlmt (its recipes add one)",
    });
  }
  const specials = Object.values(tokenizer.specialTokens).flatMap((t) => (t === null ? [] : [t.id]));
  return { maskId: mask.id, specialIds: [...new Set(specials)].sort((a, b) => a - b), vocabSize: tokenizer.vocabSize };
}

/**
 * Chooses tokens of `encoded` to predict and replaces them (80% mask id, 10% random id, 10% unchanged by default).
 * `encoded` is not modified.
 */
export function maskTokens(
  encoded: Pick<EncodedBatch, 'batch' | 'seq' | 'inputIds' | 'attentionMask'>,
  vocab: MaskingVocab,
  draw: MaskingDraw,
  options: MaskingOptions = {},
): MaskedTokens {
  const { maskProbability, maskReplace, randomReplace } = checkMaskingOptions(options);
  const size = encoded.batch * encoded.seq;
  if (encoded.inputIds.length !== size || encoded.attentionMask.length !== size) {
    throw new PretrainError({
      code: 'BAD_ARGUMENT',
      where: { api: 'maskTokens' },
      message: `a batch of ${encoded.batch}×${encoded.seq} needs ${size} input ids and attention mask values`,
      received: `${encoded.inputIds.length} and ${encoded.attentionMask.length}`,
    });
  }
  const replacements = randomReplacements(vocab, randomReplace > 0);
  const special = new Set(vocab.specialIds);
  const isMaskable = (i: number): boolean => encoded.attentionMask[i] !== 0 && !special.has(Number(encoded.inputIds[i]));
  const random = new Random(mixSeed(draw.seed, draw.step));

  const chosen: number[] = [];
  let maskable = 0;
  for (let i = 0; i < size; i++) {
    if (!isMaskable(i)) continue;
    maskable++;
    if (random.next() < maskProbability) chosen.push(i);
  }
  if (chosen.length === 0 && maskable > 0) chosen.push(nthMaskable(size, isMaskable, random.int(maskable)));

  const inputIds = encoded.inputIds.slice();
  const labels = new BigInt64Array(chosen.length);
  const maskId = BigInt(vocab.maskId);
  chosen.forEach((i, k) => {
    labels[k] = encoded.inputIds[i] as bigint;
    const u = random.next();
    if (u < maskReplace) inputIds[i] = maskId;
    else if (u < maskReplace + randomReplace) inputIds[i] = BigInt(replacements(random));
  });
  return { inputIds, positions: BigInt64Array.from(chosen, BigInt), labels, maskable };
}

function nthMaskable(size: number, isMaskable: (i: number) => boolean, n: number): number {
  let seen = 0;
  for (let i = 0; i < size; i++) if (isMaskable(i) && seen++ === n) return i;
  throw new Error(`nthMaskable: no maskable token number ${n}`); // unreachable: n < the maskable count
}

/** Draws uniformly from [0, vocabSize) minus the special ids: a draw from the smaller range, shifted past each special. */
function randomReplacements(vocab: MaskingVocab, needed: boolean): (random: Random) => number {
  const specials = [...new Set(vocab.specialIds)].filter((id) => id >= 0 && id < vocab.vocabSize).sort((a, b) => a - b);
  const pool = vocab.vocabSize - specials.length;
  if (needed && pool <= 0) {
    throw new PretrainError({
      code: 'BAD_ARGUMENT',
      where: { api: 'maskTokens', field: 'randomReplace' },
      message: `no non-special id to draw: the vocabulary of ${vocab.vocabSize} is all special tokens`,
      hint: 'set randomReplace to 0',
    });
  }
  return (random) => {
    let id = random.int(pool);
    for (const s of specials) if (id >= s) id++;
    return id;
  };
}

function checkMaskingOptions(options: MaskingOptions): Required<MaskingOptions> {
  const o = { ...DEFAULTS, ...options };
  const shares: [keyof MaskingOptions, number][] = [['maskProbability', o.maskProbability], ['maskReplace', o.maskReplace], ['randomReplace', o.randomReplace]];
  for (const [name, value] of shares) {
    if (!(value >= 0 && value <= 1)) {
      throw new PretrainError({ code: 'BAD_ARGUMENT', where: { api: 'maskTokens', field: name }, message: 'not a probability', expected: 'a number in [0, 1]', received: String(value) });
    }
  }
  if (o.maskProbability === 0) {
    throw new PretrainError({ code: 'BAD_ARGUMENT', where: { api: 'maskTokens', field: 'maskProbability' }, message: 'masks nothing', expected: 'a number in (0, 1]', received: '0' });
  }
  if (o.maskReplace + o.randomReplace > 1) {
    throw new PretrainError({
      code: 'BAD_ARGUMENT',
      where: { api: 'maskTokens', field: 'maskReplace + randomReplace' },
      message: 'the shares of chosen tokens replaced exceed 1',
      expected: '≤ 1 (the rest stay unchanged)',
      received: `${o.maskReplace} + ${o.randomReplace}`,
    });
  }
  return o;
}

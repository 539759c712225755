// Public API of the tokenizers module: load, encode (batches, or unpadded ids cut to a length), train, position ids.
export { TextTokenizer, type TokenizedText } from './tokenizer.ts';
export type { EncodedBatch, EncodeOptions, Padding } from './batch.ts';
export { encodeIds } from './encode-ids.ts';
export { SPECIAL_ROLES, type SpecialRole, type SpecialToken, type SpecialTokens } from './specials.ts';
export { bertPositionIds, positionIds, positionsOf, robertaPositionIds, type PositionConvention } from './positions.ts';
export { trainTokenizer, type TrainEvent, type TrainOptions } from './train.ts';
export type { TokenizerType } from './recipes.ts';
export { readCorpusFiles, type Corpus, type CorpusFileOptions } from './corpus.ts';
export { TokenizerError } from './errors.ts';

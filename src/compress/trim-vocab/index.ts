// Vocabulary trimming: a model or export directory with only the tokens a corpus needs, proven to tokenize and
// score as before (docs/compress.md).
export { trimVocab, type TrimOptions, type TrimReport } from './trim.ts';
export { PROBABILITY_TOLERANCE, type Proof, type TokenizationFigures } from './prove.ts';
export { BUILT_IN_SAMPLE, BUILT_IN_SAMPLE_NAME } from './sample.ts';

// The encoder to build from scratch: a preset (the paper's model shapes) and/or explicit sizes, and the
// Hugging Face config that results for a given tokenizer. Shared by `xlmt pretrain` and `xlmt train`.
import { z } from 'zod';
import { type HfModelConfig, hfModelConfig, PRESET_NAMES, preset } from '../checkpoint/index.ts';
import { encoderConfig } from '../models/config.ts';
import type { TextTokenizer } from '../tokenize/index.ts';

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).lt(1);

/** Every field optional: a preset fills what is not given, then the command's defaults. */
export const EncoderShapeSchema = z.strictObject({
  /** One of the paper's shapes (the vocabulary always comes from the tokenizer). */
  preset: z.enum(PRESET_NAMES).optional(),
  layers: positiveInt.optional(),
  hidden: positiveInt.optional(),
  heads: positiveInt.optional(),
  ffn: positiveInt.optional(),
  maxPositions: positiveInt.optional(),
  typeVocab: positiveInt.optional(),
  layerNormEps: z.number().positive().optional(),
  dropout: probability.optional(),
  attentionDropout: probability.optional(),
});

export type EncoderShape = z.infer<typeof EncoderShapeSchema>;
export type FullShape = { readonly [K in Exclude<keyof EncoderShape, 'preset'>]-?: NonNullable<EncoderShape[K]> };

/** A shape's sizes: explicit fields, else the preset's, else `defaults`. */
export function resolveShape(shape: EncoderShape, defaults: FullShape): FullShape {
  const base: FullShape = shape.preset === undefined ? defaults : (() => {
    const e = preset(shape.preset).config.encoder;
    return {
      layers: e.numHiddenLayers, hidden: e.hiddenSize, heads: e.numAttentionHeads, ffn: e.intermediateSize,
      maxPositions: e.maxPositionEmbeddings, typeVocab: e.typeVocabSize, layerNormEps: e.layerNormEps,
      dropout: e.hiddenDropoutProb, attentionDropout: e.attentionProbsDropoutProb,
    };
  })();
  const { preset: _preset, ...given } = shape;
  return { ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}

/** From scratch: XLM-R conventions when the tokenizer pads with <pad> (as XLM-R's and xlmt's Unigram do), else BERT's. */
export function scratchConfig(shape: FullShape, tokenizer: TextTokenizer, purpose: string): HfModelConfig {
  const encoder = encoderConfig({
    vocabSize: tokenizer.vocabSize, hiddenSize: shape.hidden, numHiddenLayers: shape.layers, numAttentionHeads: shape.heads,
    intermediateSize: shape.ffn, maxPositionEmbeddings: shape.maxPositions, typeVocabSize: shape.typeVocab, layerNormEps: shape.layerNormEps,
    hiddenDropoutProb: shape.dropout, attentionProbsDropoutProb: shape.attentionDropout,
  });
  const pad = tokenizer.special('pad', purpose);
  return hfModelConfig(encoder, pad.token === '<pad>' ? { modelType: 'xlm-roberta', padTokenId: pad.id } : { modelType: 'bert', padTokenId: pad.id });
}

// Masked-language-model head (BERT's cls.predictions) for pretraining, its decoder tied to the word embeddings.
import type { GraphBuilder } from '../builder/builder.ts';
import type { Value } from '../ir/graph.ts';
import type { EncoderConfig } from './config.ts';
import { gelu, layerNorm, linear } from './encoder.ts';
import { softmaxCrossEntropyPerExample } from './heads.ts';

/** Graph inputs: flat indices into [batch*seq] of the masked tokens, and the original ids there. */
export const MLM_POSITIONS = 'mlm_positions';
export const MLM_LABELS = 'mlm_labels';

/**
 * The masked-LM head and its loss: the mean cross-entropy of predicting the original token at each masked position. Only masked positions reach the
 * vocabulary projection: [masked, vocab] instead of [batch*seq, vocab].
 * hidden: [batch*seq, hidden]
 */
export interface MaskedLm {
  /** Mean cross-entropy over the masked positions. */
  readonly loss: Value;
  /** [masked, vocab] */
  readonly logits: Value;
}

export function maskedLm(g: GraphBuilder, c: EncoderConfig, hidden: Value): MaskedLm {
  const { op } = g;
  const positions = g.input(MLM_POSITIONS, 'int64', ['masked']);
  const labels = g.input(MLM_LABELS, 'int64', ['masked']);
  return g.scope('cls.predictions', () => {
    const picked = op.Gather(hidden, positions); // [masked, hidden]
    const transformed = g.scope('transform', () =>
      layerNorm(g, 'LayerNorm', gelu(g, linear(g, 'dense', picked, c.hiddenSize, c.hiddenSize)), c.hiddenSize, c.layerNormEps));
    const wordEmbeddings = g.findParam('embeddings.word_embeddings.weight'); // [vocab, hidden], tied decoder
    const logits = op.Gemm(transformed, wordEmbeddings, g.param('bias', [c.vocabSize]), { transB: 1 }); // [masked, vocab]
    return { loss: op.ReduceMean(softmaxCrossEntropyPerExample(g, logits, labels), undefined, { keepdims: false }), logits };
  });
}

// Which parameters receive weight decay by default: all but biases and LayerNorm weights, by Hugging Face names.

/** Matches a LayerNorm module's name: BERT's `LayerNorm`, T5's `layer_norm`, `final_layer_norm`, GPT-2's `ln_f`, `ln_1`. */
const LAYER_NORM_MODULE = /layer_?norm|^ln(_|\d|$)/i;

/**
 * The rule Hugging Face's Trainer and BERT's original optimizer apply: decaying a bias or a LayerNorm gain pulls
 * it toward 0, which hurts rather than regularizes. A name is exempt when it ends with `bias`, or when its
 * last-but-one dot-separated segment (the owning module) is a LayerNorm, as in
 * `roberta.encoder.layer.0.output.LayerNorm.weight`.
 */
export function decaysByDefault(name: string): boolean {
  if (name.endsWith('bias')) return false;
  const segments = name.split('.');
  const owner = segments.length >= 2 ? segments[segments.length - 2] : undefined;
  return owner === undefined || !LAYER_NORM_MODULE.test(owner);
}

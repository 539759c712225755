// Pruned and trimmed shapes for the inference benchmark: what `xlmt prune` and `xlmt trim-vocab` would leave of
// a preset, applied to its configuration so the same run times both (weights are random either way).
import { XlmtError } from '../errors/index.ts';
import { type EncoderConfig, encoderConfig } from '../models/config.ts';

export interface ShapeChange {
  /** Layers kept (the lowest, as `prune layers --strategy top`). */
  readonly layers?: number;
  /** Heads kept in every layer. */
  readonly heads?: number;
  /** FFN neurons kept in every layer. */
  readonly ffn?: number;
  /** Embedding rows kept. */
  readonly vocab?: number;
}

export function hasShapeChange(s: ShapeChange): boolean {
  return s.layers !== undefined || s.heads !== undefined || s.ffn !== undefined || s.vocab !== undefined;
}

/** The configuration with the change applied; errors name the flag whose value the model cannot take. */
export function applyShape(c: EncoderConfig, s: ShapeChange, model: string): EncoderConfig {
  const check = (flag: string, value: number | undefined, most: number): void => {
    if (value !== undefined && (value < 1 || value > most)) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: flag }, message: `${model} cannot take it`, expected: `1…${most}`, received: String(value) });
    }
  };
  check('--prune-layers', s.layers, c.numHiddenLayers);
  check('--prune-heads', s.heads, c.numAttentionHeads);
  check('--prune-ffn', s.ffn, c.intermediateSize);
  check('--trim-vocab', s.vocab, c.vocabSize);
  const layers = s.layers ?? c.numHiddenLayers;
  const removed = Array.from({ length: c.numAttentionHeads - (s.heads ?? c.numAttentionHeads) }, (_, i) => c.numAttentionHeads - 1 - i);
  return encoderConfig({
    ...c,
    numHiddenLayers: layers,
    vocabSize: s.vocab ?? c.vocabSize,
    intermediateSize: s.ffn ?? c.intermediateSize,
    prunedHeads: removed.length > 0 ? Object.fromEntries(Array.from({ length: layers }, (_, i) => [i, removed])) : {},
  });
}

/** "6 layers, 6 heads, FFN 1536, 60,000 rows": the parts the change set. */
export function describeShape(s: ShapeChange): string {
  return [
    s.layers !== undefined ? `${s.layers} layers` : null,
    s.heads !== undefined ? `${s.heads} heads` : null,
    s.ffn !== undefined ? `FFN ${s.ffn}` : null,
    s.vocab !== undefined ? `${s.vocab.toLocaleString('en')} rows` : null,
  ].filter((x) => x !== null).join(', ');
}

// `xlmt prune layers`: a model with some of its encoder layers, the rest (embeddings, heads, tokenizer, task
// schema, thresholds) as they were. Which layers: a list, or a count and a strategy.
//
// The default strategy, 'top', drops the top layers: Sajjad et al. (2023, "On the effect of dropping layers of
// pre-trained transformer models") found that, of the strategies they compared on GLUE, dropping the top layers
// of a pretrained model before fine-tuning lost least; the lower layers hold the general features the upper
// ones refine for the pretraining objective. 'alternate' keeps every other layer, evenly spread, and 'bottom'
// drops the lowest layers (kept for comparison: it loses most).
import { XlmtError } from '../../errors/index.ts';
import type { ParamStore } from '../../ir/params.ts';
import { keepLayers } from './cut.ts';
import { readForCompression, writeCompressed } from '../model-io.ts';

export const LAYER_STRATEGIES = ['top', 'bottom', 'alternate'] as const;
export type LayerStrategy = (typeof LAYER_STRATEGIES)[number];

export type LayerChoice = { readonly keep: readonly number[] } | { readonly keepCount: number; readonly strategy: LayerStrategy };

/** The layers (ascending) a strategy keeps out of `layers`. */
export function layersToKeep(layers: number, choice: LayerChoice): number[] {
  if ('keep' in choice) return [...choice.keep];
  const n = choice.keepCount;
  if (!Number.isInteger(n) || n < 1 || n > layers) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `the model has ${layers} layers`, where: { field: '--keep-count' }, expected: `an integer in 1…${layers}`, received: String(n) });
  }
  switch (choice.strategy) {
    case 'top':
      return Array.from({ length: n }, (_, i) => i);
    case 'bottom':
      return Array.from({ length: n }, (_, i) => layers - n + i);
    case 'alternate':
      // Evenly spread from layer 0: 12 → 6 keeps 0, 2, 4, 6, 8, 10.
      return Array.from({ length: n }, (_, i) => Math.floor((i * layers) / n));
  }
}

export interface PruneLayersReport {
  readonly model: string;
  readonly out: string;
  readonly kept: readonly number[];
  readonly layersBefore: number;
  readonly parametersBefore: number;
  readonly parametersAfter: number;
}

export function countParameters(params: ParamStore): number {
  let n = 0;
  for (const p of params.values()) n += p.data.length;
  return n;
}

export async function pruneLayers(modelPath: string, out: string, choice: LayerChoice): Promise<PruneLayersReport> {
  const { dir, model, output } = await readForCompression('prune layers', modelPath, out, { '--model': modelPath });
  const layers = model.hf.encoder.numHiddenLayers;
  const kept = layersToKeep(layers, choice);
  const bad = kept.find((i) => !Number.isInteger(i) || i < 0 || i >= layers);
  if (bad !== undefined) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `the model has no layer ${bad}`, where: { field: '--keep', file: dir }, expected: `layer indices in 0…${layers - 1}`, received: kept.join(',') });
  }
  if (new Set(kept).size !== kept.length) {
    throw new XlmtError({ code: 'BAD_OPTION', message: 'a layer is listed twice', where: { field: '--keep' }, received: kept.join(',') });
  }
  const ordered = [...kept].sort((a, b) => a - b);
  const cut = keepLayers(model.hf.encoder, model.params, ordered);
  await writeCompressed(output, { ...model, hf: { ...model.hf, encoder: cut.config }, params: cut.params }, { command: 'prune layers', from: dir, kept: ordered });
  return { model: dir, out, kept: ordered, layersBefore: layers, parametersBefore: countParameters(model.params), parametersAfter: countParameters(cut.params) };
}

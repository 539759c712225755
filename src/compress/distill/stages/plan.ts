// Which parameters each of XtremeDistil's stages trains, for a student of L layers: the stages as `xlmt distill`
// runs them, `unfreeze` expanded into its sub-stages.
//
//   representation  the embeddings and the layers (the loss is on the hidden states: the heads are left as they are)
//   logits          the heads and the top layer (and the BERT head's pooler)
//   unfreeze-k      the heads and the top 1 + k·G layers; the last sub-stage every layer and the embeddings
//   finetune        everything
import type { HeadStyle } from '../../../model-dir/index.ts';
import type { StageName } from './config.ts';

export interface PlannedStage {
  /** Its name in reports and its run directory's: `logits`, `unfreeze-2`. */
  readonly name: string;
  readonly stage: StageName;
  /** `--trainable` globs; undefined: every parameter. */
  readonly trainable?: readonly string[];
  /** For reports: what it trains, in words. */
  readonly trains: string;
}

const layerGlobs = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, k) => `encoder.layer.${from + k}.*`);

/** Layers `from`…`to`, in words. */
const layerWords = (from: number, to: number): string => (from === to ? `layer ${from}` : `layers ${from}–${to}`);

/**
 * The sub-stages of gradual unfreezing: layers below the top one in groups of `group` from the top down, each
 * sub-stage training every group unfrozen so far; the last adds the embeddings, so it trains the whole model.
 */
function unfreezeStages(layers: number, group: number, head: readonly string[]): PlannedStage[] {
  const stages: PlannedStage[] = [];
  const top = layers - 1;
  for (let k = 1; ; k++) {
    const lowest = Math.max(0, top - k * group);
    const last = lowest === 0;
    const trainable = [...head, ...layerGlobs(lowest, top), ...(last ? ['embeddings.*'] : [])];
    stages.push({ name: `unfreeze-${k}`, stage: 'unfreeze', trainable, trains: `the heads, ${layerWords(lowest, top)}${last ? ' and the embeddings: everything' : ''}` });
    if (last) return stages;
  }
}

/** The runs of `stages` for a student of `layers` layers whose heads are `headStyle`. */
export function planStages(stages: readonly StageName[], layers: number, headStyle: HeadStyle, unfreezeGroup: number): PlannedStage[] {
  const head = ['heads.*', ...(headStyle === 'bert' ? ['pooler.*'] : [])];
  const headWords = headStyle === 'bert' ? 'the heads and the pooler' : 'the heads';
  return stages.flatMap((stage): PlannedStage[] => {
    switch (stage) {
      case 'representation':
        // Frozen rather than left out of the loss: a zero gradient would still have AdamW decay their weights.
        return [{ name: stage, stage, trainable: ['embeddings.*', 'encoder.*'], trains: 'the embeddings and the layers (the loss is on their hidden states)' }];
      case 'logits':
        return [{ name: stage, stage, trainable: [...head, ...layerGlobs(layers - 1, layers - 1)], trains: `${headWords} and ${layerWords(layers - 1, layers - 1)}` }];
      case 'unfreeze':
        return unfreezeStages(layers, unfreezeGroup, head);
      case 'finetune':
        return [{ name: stage, stage, trains: 'everything' }];
    }
  });
}

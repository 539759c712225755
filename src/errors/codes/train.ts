// Codes of training, pretraining, tokenizers, baselines, experiments, metrics, graph building and autodiff.
import type { CodeTable } from '../types.ts';

export const trainCodes = {
} as const satisfies CodeTable;

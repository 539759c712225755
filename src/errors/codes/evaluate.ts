// Codes of metrics, optimizers, the TF-IDF baseline, experiments and batch prediction.
import type { CodeTable } from '../types.ts';

export const evaluateCodes = {
} as const satisfies CodeTable;

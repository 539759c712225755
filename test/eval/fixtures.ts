// Small hand-checked tasks shared by the report and table tests; the expected numbers are in those tests.
import type { MulticlassPredictions, MultilabelPredictions, Task } from '../../src/eval/index.ts';

export const sentiment: Task = { name: 'sentiment', type: 'multiclass', labels: ['neg', 'neu', 'pos'] };

// Predicted (argmax): en 0 1 1 1 0, de 2 1 0 0 2. The en rows never touch 'pos'; the second row is a tie
// between 'neu' and 'pos' at 0.45, which the lower index wins. The de rows predict 'neu' once, never gold there.
export const sentimentPredictions: MulticlassPredictions = {
  type: 'multiclass',
  gold: [0, 0, 1, 1, 0, 2, 2, 0, 0, 2],
  probs: new Float32Array([
    0.7, 0.2, 0.1, 0.1, 0.45, 0.45, 0.2, 0.7, 0.1, 0.3, 0.6, 0.1, 0.5, 0.3, 0.2, // en
    0.1, 0.2, 0.7, 0.2, 0.5, 0.3, 0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.1, 0.1, 0.8, // de
  ]),
  langs: ['en', 'en', 'en', 'en', 'en', 'de', 'de', 'de', 'de', 'de'],
};

export const emotion: Task = { name: 'emotion', type: 'multilabel', labels: ['joy', 'anger', 'fear'] };

// At 0.5 the predictions are [1,0,0], [0,1,1], [0,0,0], [0,1,0], [1,1,0], [0,0,0]; rows 3 and 6 are "none".
export const emotionPredictions: MultilabelPredictions = {
  type: 'multilabel',
  gold: new Uint8Array([1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]),
  probs: new Float32Array([0.9, 0.2, 0.1, 0.4, 0.7, 0.6, 0.1, 0.1, 0.2, 0.3, 0.8, 0.1, 0.6, 0.55, 0.3, 0.2, 0.3, 0.4]),
  langs: ['en', 'en', 'en', 'fr', 'fr', 'fr'],
};

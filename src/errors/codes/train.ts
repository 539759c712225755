// Codes of training, pretraining, tokenizers, models, graph building and autodiff.
import type { CodeTable } from '../types.ts';

export const trainCodes = {
  TOKENIZER_INVALID: { kind: 'input', summary: 'a tokenizer.json is not JSON, not a tokenizer, or the tokenizers library cannot load or run it; `where.file` names it' },
  TOKENIZER_MISSING_SPECIAL_TOKEN: { kind: 'input', summary: 'a tokenizer lacks a special token (pad, mask, cls…) that the model or the command needs' },
  TOKENIZER_UNSUPPORTED: { kind: 'input', summary: 'a tokenizer.json whose model a command cannot rewrite (vocabulary trimming: Unigram, WordPiece and BPE without dropout); `where.field` names the field' },
  TOKENIZER_MISMATCH: { kind: 'input', summary: 'a tokenizer does not fit the model: more tokens than embeddings, another pad id, a model type character n-grams cannot use' },
  SEQUENCE_TOO_LONG: { kind: 'usage', summary: 'a text has more tokens than maxLength while truncation is off' },
  TOKENIZER_TRAINING_FAILED: { kind: 'internal', summary: 'the tokenizers library failed while training a tokenizer; the message gives its reason' },
  RUN_SETTINGS_CHANGED: { kind: 'usage', summary: 'an --out holds an unfinished run begun with other settings or other data; resuming it would mix two runs' },
  BAD_RUN_STATE: { kind: 'input', summary: 'a run\'s saved state (checkpoints/last: progress, optimizer, parameters) is unreadable or does not fit the model' },
  CORPUS_EMPTY: { kind: 'input', summary: 'a corpus (for a tokenizer or pretraining) holds no non-blank text' },
  NO_LABELED_EXAMPLES: { kind: 'input', summary: 'a training or dev file has no example labeled for any of the model\'s tasks' },
  GRAPH_BUILD_FAILED: { kind: 'internal', summary: 'a graph could not be built: an op got inputs of shapes or types it cannot take; `where.node` names the node' },
  AUTODIFF_FAILED: { kind: 'internal', summary: 'the backward graph could not be built: an op has no gradient rule, or its rule cannot take the node; `where.node` names it' },
} as const satisfies CodeTable;

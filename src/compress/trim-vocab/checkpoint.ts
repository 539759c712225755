// The vocabulary tensors of a model directory's checkpoint: the word embedding and, when the checkpoint has a
// masked-LM head, its decoder rows and bias. Names are resolved as the checkpoint loader resolves them (with or
// without a `bert.` / `roberta.` prefix, RoBERTa's `lm_head` as BERT's `cls.predictions`); every other tensor is
// written back unchanged, in the dtype it had.
import { join } from 'node:path';
import { canonicalName, loadHfModel, WEIGHTS_FILE, writeSafetensors, type HfModel, type SafeTensor } from '../../checkpoint/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { gatherRows, type IdMap } from './id-map.ts';

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

/** Tensors with one row (or one value) per token id, by their canonical names. */
const VOCAB_TENSORS = new Set([
  WORD_EMBEDDINGS,
  'cls.predictions.decoder.weight',
  'cls.predictions.decoder.bias',
  'cls.predictions.bias',
  'lm_head.decoder.weight',
  'lm_head.decoder.bias',
]);

export interface VocabCheckpoint {
  readonly model: HfModel;
  /** Rows of the word embedding: the model's vocabulary size. */
  readonly rows: number;
  /** Names in the file of the tensors to cut. */
  readonly names: readonly string[];
}

export async function readVocabCheckpoint(dir: string): Promise<VocabCheckpoint> {
  const model = await loadHfModel(dir);
  const names = [...model.tensors.keys()].filter((key) => VOCAB_TENSORS.has(canonicalName(key)));
  const embedding = names.find((key) => canonicalName(key) === WORD_EMBEDDINGS);
  if (embedding === undefined) {
    throw new XlmtError({ code: 'KEY_MISMATCH', where: { file: model.files[0] ?? dir, tensor: WORD_EMBEDDINGS }, message: 'the checkpoint has no word embedding', expected: `a tensor ${WORD_EMBEDDINGS} (with or without a bert. / roberta. prefix)` });
  }
  const rows = model.tensors.get(embedding)?.shape[0] ?? 0;
  for (const key of names) {
    const shape = model.tensors.get(key)?.shape ?? [];
    if (shape[0] !== rows) {
      throw new XlmtError({ code: 'BAD_TENSOR', where: { file: model.files[0] ?? dir, tensor: key }, message: 'a vocabulary tensor has another row count than the word embedding', expected: `${rows} rows`, received: `shape [${shape.join(', ')}]` });
    }
  }
  return { model, rows, names };
}

/** Writes model.safetensors into `out` with the vocabulary tensors cut to the kept rows; returns its path. */
export async function writeTrimmedCheckpoint(checkpoint: VocabCheckpoint, map: IdMap, out: string): Promise<string> {
  const cut = new Set(checkpoint.names);
  const entries = [...checkpoint.model.tensors].map(([key, t]): [string, SafeTensor] => {
    if (!cut.has(key)) return [key, t];
    return [key, { dtype: t.dtype, shape: [map.size, ...t.shape.slice(1)], bytes: gatherRows(t.bytes, checkpoint.rows, map) }];
  });
  const path = join(out, WEIGHTS_FILE);
  await writeSafetensors(path, entries, checkpoint.model.metadata);
  return path;
}

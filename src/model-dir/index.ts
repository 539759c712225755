// The model-directory format: file names and the xlmt.json description, read and validated. A folder of its own
// below infer/, train/ and export/, which all read model directories: it imports nothing that builds or trains
// graphs, so serving and prediction can read a model without loading training code.
export { MODEL_META_FILE, TASKS_FILE, TOKENIZER_FILE } from './files.ts';
export { HEAD_STYLES, readModelMeta, WeightBitsSchema, type HeadStyle, type ModelMeta } from './meta.ts';

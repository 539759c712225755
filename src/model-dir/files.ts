// The file names of a model directory that are xlmt's own or that xlmt reads by name beside the checkpoint
// (config.json and model.safetensors are named in checkpoint/, which owns the Hugging Face checkpoint format).
export const MODEL_META_FILE = 'xlmt.json';
export const TASKS_FILE = 'tasks.json';
export const TOKENIZER_FILE = 'tokenizer.json';

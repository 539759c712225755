// Codes of model files: checkpoints (safetensors, config.json, shard indexes), model directories, import, export
// and inference.
import type { CodeTable } from '../types.ts';

export const modelCodes = {
  BAD_HEADER: { kind: 'input', summary: 'a safetensors header is malformed: not JSON, wrong offsets, unknown dtype' },
  BAD_TENSOR: { kind: 'input', summary: 'a tensor\'s bytes or shape are not what its header or the model needs' },
  BAD_CONFIG: { kind: 'input', summary: 'a config.json field is missing, of the wrong type or out of range; `where.field` names it' },
  BAD_INDEX: { kind: 'input', summary: 'a sharded checkpoint\'s index file is malformed or names missing shards' },
  UNSUPPORTED: { kind: 'input', summary: 'a checkpoint uses a format, dtype or architecture xlmt does not read' },
  KEY_MISMATCH: { kind: 'input', summary: 'a checkpoint\'s tensor names do not match the model (missing, unexpected or mis-shaped tensors)' },
  NOT_A_MODEL: { kind: 'usage', summary: 'the directory given as a model is not one of the kind the command wants (a run, an export, a baseline)' },
  BAD_MODEL: { kind: 'input', summary: 'a model directory is unreadable, of another format or version, or its files disagree' },
  ONNX_NOT_ENCODER: { kind: 'input', summary: 'an ONNX file\'s graph is not a BERT or XLM-R encoder xlmt can map; the message names what was found where' },
  IMPORT_CHECK_FAILED: { kind: 'internal', summary: 'an imported ONNX encoder\'s hidden states differ from the ONNX file\'s own beyond tolerance; the first differing layer is named, nothing was written' },
  PRUNE_CHECK_FAILED: { kind: 'internal', summary: 'a pruned model\'s logits differ from the masked model it was cut from beyond tolerance; nothing was written' },
  TRIM_CHECK_FAILED: { kind: 'internal', summary: 'a vocabulary-trimmed model tokenizes a text whose pieces were all kept differently, or its probabilities differ from the original\'s beyond 1e-6; the text is named, nothing was written' },
  EXPORT_CHECK_FAILED: { kind: 'internal', summary: 'an exported graph\'s probabilities differ from the trained model\'s beyond tolerance, or are NaN or infinite; nothing was written' },
} as const satisfies CodeTable;

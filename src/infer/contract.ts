// What an exported model.onnx takes and gives, shared by the exporter, the runtime and the benchmarks.
//
// Inputs are the two every ONNX tool feeds a text classifier: `input_ids` and `attention_mask`, int64
// [batch, seq], right-padded. Position and token-type ids are computed inside the graph, so callers (our
// runtime, transformers.js, onnxruntime in any language) need nothing model-specific.
// Outputs: `probs:<task>` float32 [batch, labels] per task (softmax for multiclass, sigmoid for multilabel).
// A single-task model also outputs `logits`, the name Hugging Face pipelines read.
export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const LOGITS = 'logits';
export const probsOutput = (task: string): string => `probs:${task}`;

/** The export directory, in Hugging Face layout. */
export const ONNX_DIR = 'onnx';
export const ONNX_FILE = 'model.onnx';

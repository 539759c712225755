// The checkpoint API: safetensors files, Hugging Face config.json and model directories, key mapping, presets.
export { CheckpointError, type CheckpointErrorCode, type CheckpointErrorDetails } from './errors.ts';
export { DTYPE_SIZE, FLOAT_DTYPES, SAFETENSORS_DTYPES, type SafetensorsDType, bfloat16ToFloat, floatToHalf, halfToFloat, toFloat32, type Float32Conversion } from './dtype.ts';
export { MAX_HEADER_BYTES } from './safetensors-header.ts';
export {
  float32Tensor,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  type SafeTensor,
  type SafetensorsFile,
  type TensorEntries,
} from './safetensors.ts';
export {
  HF_MODEL_TYPES,
  firstPositionId,
  formatHfConfig,
  hfConfigJson,
  hfModelConfig,
  maxSequenceLength,
  parseHfConfig,
  positionConvention,
  readHfConfig,
  writeHfConfig,
  type HfModelConfig,
  type HfModelConfigOptions,
  type HfModelType,
  type ParsedHfConfig,
  type PositionConvention,
} from './hf-config.ts';
export {
  KeyMismatchError,
  LM_HEAD_ALIASES,
  CLASSIFIER_PREFIX,
  canonicalName,
  formatKeyReport,
  mapCheckpoint,
  type ExpectedParam,
  type KeyReport,
  type LoadedTensor,
  type MapOptions,
  type MappedCheckpoint,
  type UnexpectedKind,
  type UnexpectedTensor,
  taskHeadPrefix,
  unexpectedKind,
} from './keys.ts';
export {
  CONFIG_FILE,
  WEIGHTS_FILE,
  WEIGHTS_INDEX_FILE,
  architectureFor,
  hfTensorName,
  loadHfModel,
  loadHfParams,
  saveHfModel,
  type HfModel,
  type LoadedHfParams,
  type SaveHfModelInput,
} from './hf-model.ts';
export { readShardedSafetensors, type ShardedTensors } from './hf-shards.ts';
export { PRESET_NAMES, isPresetName, preset, type Preset, type PresetName } from './presets.ts';

// Quantization-aware training: fake int8 quantization in training graphs (docs/quantization.md).
export { EmaRanges, Q8BERT_EMA_DECAY } from './ema-ranges.ts';
export { fakeQuantize, type FakeQuantOptions, INT8_MAX, lsqStep, maxAbsScale, rowScale, scaleGradient, scaleOfRange } from './fake-quant.ts';
export { lsqInitialSteps, MaxRanges, type ObservedRanges } from './lsq.ts';
export { inputMaxAbsName, inputRangeName, inputScaleName, layerOf } from './names.ts';
export { type ActivationQuantizer, observedMaxAbs, type QatGraph, type QatOptions, quantizationAwareGraph, type QuantizedLayer, type RangeMode } from './qat-graph.ts';

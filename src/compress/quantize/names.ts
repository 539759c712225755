// Names the quantization-aware graph adds, derived from the dense layer a quantizer belongs to (its weight's name
// without `.weight`, e.g. `encoder.layer.0.attention.self.query`).

/** The layer a weight belongs to: `encoder.layer.0.output.dense.weight` → `encoder.layer.0.output.dense`. */
export const layerOf = (weight: string): string => (weight.endsWith('.weight') ? weight.slice(0, -'.weight'.length) : weight);

/** 'ema': the graph input carrying the layer's input range (float32 [], 0 before the first observation). */
export const inputRangeName = (layer: string): string => `${layer}.input_range`;

/** 'ema': the graph output with max|x| of the layer's input in this step. */
export const inputMaxAbsName = (layer: string): string => `${layer}.input_max_abs`;

/** 'lsq': the learned step size of the layer's input, a parameter (float32 []). */
export const inputScaleName = (layer: string): string => `${layer}.input_scale`;

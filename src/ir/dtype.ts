// Element types of tensors: names as ONNX Runtime's JS API spells them, mapped to ONNX TensorProto codes.

export const DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

/** ONNX TensorProto.DataType codes. */
export const ONNX_ELEM_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export function dtypeFromOnnx(code: number): DType {
  const found = DTYPES.find((d) => ONNX_ELEM_TYPE[d] === code);
  if (!found) throw new Error(`ONNX element type ${code} is not supported (supported: ${DTYPES.join(', ')})`);
  return found;
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16';
export const isInteger = (d: DType): boolean => d === 'int64' || d === 'int32' || d === 'int8' || d === 'uint8';

/** The JS container ONNX Runtime uses for each dtype. */
export type TensorArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export function allocate(dtype: DType, size: number): TensorArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'float16': return new Uint16Array(size);
    case 'int64': return new BigInt64Array(size);
    case 'int32': return new Int32Array(size);
    case 'int8': return new Int8Array(size);
    case 'uint8': return new Uint8Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

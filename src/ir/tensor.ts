// Concrete tensor data carried inside a graph (constants, initializers, attributes).
import { allocate, type DType, type TensorArray } from './dtype.ts';
import { numElements } from './shape.ts';

export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorArray;
}

export function tensorFromNumbers(dtype: DType, shape: readonly number[], values: readonly number[]): TensorData {
  const size = numElements(shape);
  if (values.length !== size) {
    throw new Error(`tensor of shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
  }
  const data = allocate(dtype, size);
  if (data instanceof BigInt64Array) values.forEach((v, i) => { data[i] = BigInt(Math.trunc(v)); });
  else values.forEach((v, i) => { data[i] = v; });
  return { dtype, shape, data };
}

/** Values of a tensor as plain numbers (int64 converted; precision beyond 2^53 is not needed for shapes and indices). */
export function tensorToNumbers(t: TensorData): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

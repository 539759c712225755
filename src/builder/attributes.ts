// Typed attribute constructors: the ONNX type of each attribute is explicit, never guessed from a JS number.
import type { Attribute } from '../ir/graph.ts';
import type { TensorData } from '../ir/tensor.ts';

export const int = (value: number): Attribute => {
  if (!Number.isInteger(value)) throw new Error(`int attribute given a non-integer ${value}`);
  return { type: 'int', value };
};
export const float = (value: number): Attribute => ({ type: 'float', value });
export const ints = (value: readonly number[]): Attribute => ({ type: 'ints', value });
export const floats = (value: readonly number[]): Attribute => ({ type: 'floats', value });
export const string = (value: string): Attribute => ({ type: 'string', value });
export const tensor = (value: TensorData): Attribute => ({ type: 'tensor', value });

/** Drop attributes left undefined so ONNX defaults apply. */
export function defined(attrs: Record<string, Attribute | undefined>): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

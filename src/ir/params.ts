// Trainable parameters and their gradients, keyed by checkpoint name (Hugging Face's parameter names).

export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  /** Updated in place by optimizers; fed to every run as a graph input of the same name. */
  readonly data: Float32Array;
}

export type ParamStore = ReadonlyMap<string, Parameter>;

/**
 * A parameter's gradient: dense, or the rows of an embedding table that a batch used. Row gradients hold one
 * `values` row per index, in batch order: an index may repeat and its rows must be summed.
 */
export type Gradient =
  | { readonly kind: 'dense'; readonly data: Float32Array }
  | { readonly kind: 'rows'; readonly indices: BigInt64Array; readonly values: Float32Array };

export type Gradients = ReadonlyMap<string, Gradient>;

export function paramStore(params: Iterable<Parameter>): Map<string, Parameter> {
  const store = new Map<string, Parameter>();
  for (const p of params) {
    if (store.has(p.name)) throw new Error(`parameter ${p.name} is defined twice`);
    store.set(p.name, p);
  }
  return store;
}

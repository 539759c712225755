// Small builders shared by the optimizer tests: parameters, stores and gradients from plain numbers.
import { paramStore, type Gradient, type Parameter, type ParamStore } from '../../src/ir/params.ts';

export function param(name: string, shape: readonly number[], values: readonly number[]): Parameter {
  return { name, shape, data: Float32Array.from(values) };
}

export function store(...params: Parameter[]): ParamStore {
  return paramStore(params);
}

export function dense(values: readonly number[]): Gradient {
  return { kind: 'dense', data: Float32Array.from(values) };
}

export function rows(indices: readonly number[], values: readonly number[]): Gradient {
  return { kind: 'rows', indices: BigInt64Array.from(indices, (i) => BigInt(i)), values: Float32Array.from(values) };
}

export function grads(entries: Record<string, Gradient>): Map<string, Gradient> {
  return new Map(Object.entries(entries));
}

/** A deep copy of a store, so two optimizers can be run side by side from the same starting point. */
export function cloneStore(params: ParamStore): ParamStore {
  return store(...[...params.values()].map((p) => ({ name: p.name, shape: p.shape, data: p.data.slice() })));
}

export function values(params: ParamStore, name: string): number[] {
  const p = params.get(name);
  if (p === undefined) throw new Error(`test store has no parameter ${name}`);
  return Array.from(p.data);
}

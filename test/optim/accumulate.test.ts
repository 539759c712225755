// Gradient accumulation: averaged or summed micro-batch gradients, concatenated rows, and resets between steps.
import { describe, expect, it } from 'vitest';
import type { Gradient, Gradients } from '../../src/ir/params.ts';
import { GradientAccumulator } from '../../src/optim/index.ts';
import { dense, grads, rows } from './helpers.ts';

function get(g: Gradients, name: string): Gradient {
  const found = g.get(name);
  if (found === undefined) throw new Error(`no gradient for ${name}`);
  return found;
}

const denseValues = (g: Gradient): number[] => (g.kind === 'dense' ? Array.from(g.data) : []);

describe('GradientAccumulator', () => {
  it('averages dense gradients over micro-batches', () => {
    const acc = new GradientAccumulator();
    acc.add(grads({ w: dense([1, 2]) }));
    acc.add(grads({ w: dense([3, -2]) }));
    acc.add(grads({ w: dense([2, 6]) }));
    expect(acc.count).toBe(3);
    expect(denseValues(get(acc.result(), 'w'))).toEqual([2, 2]); // (1 + 3 + 2)/3, (2 - 2 + 6)/3
  });

  it('counts a parameter missing from a micro-batch as a zero gradient there', () => {
    const acc = new GradientAccumulator();
    acc.add(grads({ w: dense([4]), b: dense([1]) }));
    acc.add(grads({ b: dense([3]) }));
    const g = acc.result();
    expect(denseValues(get(g, 'w'))).toEqual([2]);
    expect(denseValues(get(g, 'b'))).toEqual([2]);
  });

  it('concatenates row gradients and scales their values', () => {
    const acc = new GradientAccumulator();
    acc.add(grads({ emb: rows([0, 2], [1, 1, 2, 2]) }));
    acc.add(grads({ emb: rows([2], [4, 6]) }));
    const g = get(acc.result(), 'emb');
    expect(g.kind).toBe('rows');
    if (g.kind !== 'rows') return;
    expect(Array.from(g.indices)).toEqual([0n, 2n, 2n]);
    expect(Array.from(g.values)).toEqual([0.5, 0.5, 1, 1, 2, 3]);
  });

  it('sums with the sum reduction, copies inputs, and starts over after reset', () => {
    const acc = new GradientAccumulator({ reduction: 'sum' });
    const first = dense([1, 1]);
    acc.add(grads({ w: first }));
    if (first.kind === 'dense') first.data.fill(100); // the caller reuses its buffer
    acc.add(grads({ w: dense([2, 3]) }));
    expect(denseValues(get(acc.result(), 'w'))).toEqual([3, 4]);
    expect(() => acc.add(grads({ w: dense([1, 1]) }))).toThrow(/after result\(\) and before reset\(\)/);

    acc.reset();
    expect(acc.count).toBe(0);
    acc.add(grads({ v: dense([5]) }));
    const g = acc.result();
    expect([...g.keys()]).toEqual(['v']); // w had no gradient this step
    expect(denseValues(get(g, 'v'))).toEqual([5]);
  });

  it('rejects size and kind changes between micro-batches, adding nothing', () => {
    const acc = new GradientAccumulator();
    acc.add(grads({ w: dense([1, 2]) }));
    expect(() => acc.add(grads({ w: dense([1, 2, 3]) }))).toThrow(/"w".*expected 2 values; received 3/);
    expect(() => acc.add(grads({ w: rows([0], [1, 2]) }))).toThrow(/tensor "w": the gradient changed kind/);
    expect(acc.count).toBe(1);
    expect(denseValues(get(acc.result(), 'w'))).toEqual([1, 2]);
  });

  it('refuses a result with nothing added', () => {
    expect(() => new GradientAccumulator().result()).toThrow(/no micro-batch/);
  });
});

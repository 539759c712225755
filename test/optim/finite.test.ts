// Non-finite loss and gradient detection, the error it raises, and the skip policy.
import { describe, expect, it } from 'vitest';
import { checkFinite, guardFinite, NonFiniteError } from '../../src/optim/index.ts';
import { dense, grads, rows } from './helpers.ts';

describe('checkFinite', () => {
  it('returns null when everything is finite', () => {
    expect(checkFinite(0.7, grads({ w: dense([1, 2]), emb: rows([0], [3]) }))).toBeNull();
  });

  it('names the parameter and position of the first non-finite gradient value', () => {
    const g = grads({ 'a.weight': dense([1, 2]), 'emb.weight': rows([4, 1], [0, 1, Number.POSITIVE_INFINITY, 2]) });
    expect(checkFinite(0.7, g)).toEqual({ what: 'emb.weight', index: 2, value: Number.POSITIVE_INFINITY });
  });

  it('reports the loss first', () => {
    expect(checkFinite(Number.NaN, grads({ w: dense([Number.NaN]) }))).toEqual({ what: 'loss', index: 0, value: Number.NaN });
  });
});

describe('NonFiniteError and guardFinite', () => {
  const bad = grads({ 'encoder.layer.3.output.dense.weight': dense([0, Number.NaN]) });

  it('throws under the error policy, naming the parameter and step and what to do', () => {
    let caught: unknown;
    try {
      guardFinite('error', 1200, 0.5, bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NonFiniteError);
    const e = caught as NonFiniteError;
    expect(e.code).toBe('NON_FINITE');
    expect(e.what).toBe('encoder.layer.3.output.dense.weight');
    expect(e.step).toBe(1200);
    expect(e.index).toBe(1);
    expect(e.message).toMatch(/^tensor "encoder\.layer\.3\.output\.dense\.weight": step 1200: the gradient is NaN at index 1\./);
    expect(e.where).toEqual({ tensor: 'encoder.layer.3.output.dense.weight' });
    expect(e.toJSON()).toMatchObject({ kind: 'input', details: { step: 1200, index: 1, value: 'NaN' } });
    expect(e.message).toMatch(/learning rate.*clipping.*'skip'/);
  });

  it('names the loss', () => {
    expect(() => guardFinite('error', 3, Number.POSITIVE_INFINITY, grads({}))).toThrow(/step 3: the loss is Infinity/);
  });

  it('reports without throwing under the skip policy', () => {
    expect(guardFinite('skip', 5, 0.5, bad)).toEqual({ what: 'encoder.layer.3.output.dense.weight', index: 1, value: Number.NaN });
    expect(guardFinite('skip', 5, 0.5, grads({}))).toBeNull();
  });
});

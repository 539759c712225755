// SGD with momentum against hand-computed reference steps (plain and Nesterov), rows, and state round trips.
import { describe, expect, it } from 'vitest';
import { SGD } from '../../src/optim/index.ts';
import { cloneStore, dense, grads, param, rows, store, values } from './helpers.ts';

describe('SGD', () => {
  it('matches two hand-computed momentum steps with coupled weight decay', () => {
    // lr 0.1, momentum 0.9, weightDecay 0.01; the weight decays, the bias does not.
    const params = store(param('dense.weight', [1], [1]), param('dense.bias', [1], [1]));
    const opt = new SGD({ momentum: 0.9, weightDecay: 0.01 });
    opt.step(params, grads({ 'dense.weight': dense([0.5]), 'dense.bias': dense([0.5]) }), 0.1);
    // weight: d = 0.5 + 0.01 · 1 = 0.51; buf = 0.51; p = 1 - 0.1 · 0.51 = 0.949
    // bias:   d = 0.5; buf = 0.5; p = 1 - 0.05 = 0.95
    expect(values(params, 'dense.weight')[0]).toBeCloseTo(0.949, 6);
    expect(values(params, 'dense.bias')[0]).toBeCloseTo(0.95, 6);
    opt.step(params, grads({ 'dense.weight': dense([-0.25]), 'dense.bias': dense([-0.25]) }), 0.1);
    // weight: d = -0.25 + 0.01 · 0.949 = -0.24051; buf = 0.9 · 0.51 - 0.24051 = 0.21849; p = 0.949 - 0.021849 = 0.927151
    // bias:   d = -0.25; buf = 0.45 - 0.25 = 0.2; p = 0.95 - 0.02 = 0.93
    expect(values(params, 'dense.weight')[0]).toBeCloseTo(0.927151, 6);
    expect(values(params, 'dense.bias')[0]).toBeCloseTo(0.93, 6);
  });

  it('with gradScale, steps as on gradients scaled beforehand (weight decay is not scaled)', () => {
    const init = () => store(param('dense.weight', [2], [1, -1]), param('emb.weight', [2, 1], [3, 4]));
    const scaled = init();
    const reference = init();
    const opt = new SGD({ momentum: 0.9, weightDecay: 0.01 });
    const ref = new SGD({ momentum: 0.9, weightDecay: 0.01 });
    for (const s of [0.5, 0.2]) {
      opt.step(scaled, grads({ 'dense.weight': dense([0.5, 2]), 'emb.weight': rows([1, 1], [1, 3]) }), 0.1, s);
      ref.step(reference, grads({ 'dense.weight': dense([0.5 * s, 2 * s]), 'emb.weight': rows([1, 1], [s, 3 * s]) }), 0.1);
    }
    for (const name of ['dense.weight', 'emb.weight']) {
      values(scaled, name).forEach((v, i) => expect(v).toBeCloseTo(values(reference, name)[i] as number, 6));
    }
  });

  it('matches two hand-computed Nesterov steps', () => {
    const params = store(param('dense.weight', [1], [1]));
    const opt = new SGD({ momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    opt.step(params, grads({ 'dense.weight': dense([0.5]) }), 0.1);
    // d = 0.51; buf = 0.51; step = d + 0.9 · buf = 0.969; p = 1 - 0.0969 = 0.9031
    expect(values(params, 'dense.weight')[0]).toBeCloseTo(0.9031, 6);
    opt.step(params, grads({ 'dense.weight': dense([-0.25]) }), 0.1);
    // d = -0.25 + 0.009031 = -0.240969; buf = 0.459 - 0.240969 = 0.218031;
    // step = -0.240969 + 0.9 · 0.218031 = -0.0447411; p = 0.9031 + 0.00447411 = 0.90757411
    expect(values(params, 'dense.weight')[0]).toBeCloseTo(0.90757411, 6);
  });

  it('is plain gradient descent without momentum', () => {
    const params = store(param('w.weight', [2], [1, 2]));
    const opt = new SGD();
    opt.step(params, grads({ 'w.weight': dense([0.5, -1]) }), 0.5);
    expect(values(params, 'w.weight')).toEqual([0.75, 2.5]);
    expect(opt.state().buffers.size).toBe(0);
  });

  it('updates only used rows, summing duplicates, with momentum kept per row', () => {
    const params = store(param('emb.weight', [3, 1], [1, 1, 1]));
    const opt = new SGD({ momentum: 0.5 });
    opt.step(params, grads({ 'emb.weight': rows([0, 0], [1, 2]) }), 0.1);
    // Row 0: g = 3, buf = 3, p = 1 - 0.3 = 0.7. Rows 1, 2 unused.
    expect(values(params, 'emb.weight')).toEqual([Math.fround(0.7), 1, 1]);
    opt.step(params, grads({ 'emb.weight': rows([1], [1]) }), 0.1);
    // Row 0 unused this step: its buffer (3) does not move it again. Row 1: buf = 1, p = 0.9.
    expect(values(params, 'emb.weight')).toEqual([Math.fround(0.7), Math.fround(0.9), 1]);
  });

  it('continues identically after state() and loadState()', () => {
    const start = store(param('w.weight', [2], [1, -1]));
    const opt = new SGD({ momentum: 0.9, weightDecay: 0.1 });
    opt.step(start, grads({ 'w.weight': dense([0.3, 0.2]) }), 0.1);
    const resumedParams = cloneStore(start);
    const resumed = new SGD({ momentum: 0.9, weightDecay: 0.1 });
    resumed.loadState(opt.state(), resumedParams);
    const freshParams = cloneStore(start);
    const next = grads({ 'w.weight': dense([-0.1, 0.4]) });
    opt.step(start, next, 0.1);
    resumed.step(resumedParams, next, 0.1);
    expect(values(resumedParams, 'w.weight')).toEqual(values(start, 'w.weight'));
    // Without the saved momentum the same step lands elsewhere: the round trip carried real state.
    new SGD({ momentum: 0.9, weightDecay: 0.1 }).step(freshParams, next, 0.1);
    expect(values(freshParams, 'w.weight')).not.toEqual(values(start, 'w.weight'));
  });

  it('rejects Nesterov without momentum', () => {
    expect(() => new SGD({ nesterov: true })).toThrow(/Nesterov.*momentum > 0/);
  });
});

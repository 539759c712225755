// AdamW against hand-computed reference steps, lazy row updates, validation, and state round trips.
import { describe, expect, it } from 'vitest';
import { XlmtError, type ErrorJson } from '../../src/errors/index.ts';
import { AdamW, SGD, decaysByDefault, stateKey } from '../../src/optim/index.ts';
import { cloneStore, dense, grads, param, rows, store, values } from './helpers.ts';

describe('AdamW', () => {
  it('matches two hand-computed steps with weight decay and bias correction', () => {
    // lr 0.1, betas (0.9, 0.999), eps 1e-8, weightDecay 0.1.
    const params = store(
      param('encoder.dense.weight', [2], [1, -2]),
      param('encoder.dense.bias', [1], [0.5]),
    );
    const opt = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 });

    opt.step(params, grads({ 'encoder.dense.weight': dense([0.5, 0.1]), 'encoder.dense.bias': dense([0.2]) }), 0.1);
    // weight[0], g 0.5: p = 1 · (1 - 0.1·0.1) = 0.99; m = 0.05, v = 0.00025; mhat = 0.05/0.1 = 0.5,
    //   vhat = 0.00025/0.001 = 0.25; p = 0.99 - 0.1 · 0.5 / (0.5 + 1e-8) = 0.890000002
    // weight[1], g 0.1: p = -1.98; mhat = 0.1, vhat = 0.01; p = -1.98 - 0.1 · 0.1 / (0.1 + 1e-8) = -2.07999999
    // bias (no decay), g 0.2: mhat = 0.2, vhat = 0.04; p = 0.5 - 0.1 · 0.2 / (0.2 + 1e-8) = 0.400000005
    expect(values(params, 'encoder.dense.weight')[0]).toBeCloseTo(0.890000002, 6);
    expect(values(params, 'encoder.dense.weight')[1]).toBeCloseTo(-2.07999999, 6);
    expect(values(params, 'encoder.dense.bias')[0]).toBeCloseTo(0.400000005, 6);

    opt.step(params, grads({ 'encoder.dense.weight': dense([-0.25, 0.3]), 'encoder.dense.bias': dense([0.2]) }), 0.1);
    // t = 2: 1 - 0.9² = 0.19, 1 - 0.999² = 0.001999.
    // weight[0], g -0.25: p = 0.890000002 · 0.99 = 0.88110000198; m = 0.045 - 0.025 = 0.02;
    //   v = 0.999 · 0.00025 + 0.001 · 0.0625 = 0.00031225; mhat = 0.02/0.19 = 0.1052631579,
    //   vhat = 0.00031225/0.001999 = 0.1562031016, sqrt = 0.3952253808;
    //   p = 0.88110000198 - 0.1 · 0.1052631579 / 0.3952253908 = 0.88110000198 - 0.0266337033 = 0.8544662987
    // weight[1], g 0.3: p = -2.07999999 · 0.99 = -2.0591999901; m = 0.009 + 0.03 = 0.039;
    //   v = 0.999 · 1e-5 + 0.001 · 0.09 = 9.999e-5; mhat = 0.2052631579, vhat = 0.0500200100, sqrt = 0.2236515370;
    //   p = -2.0591999901 - 0.1 · 0.2052631579 / 0.2236515470 = -2.0591999901 - 0.0917781078 = -2.1509780979
    // bias, constant g 0.2: mhat = 0.2, vhat = 0.04 again; p = 0.400000005 - 0.099999995 = 0.30000001
    expect(values(params, 'encoder.dense.weight')[0]).toBeCloseTo(0.8544662987, 6);
    expect(values(params, 'encoder.dense.weight')[1]).toBeCloseTo(-2.1509780979, 6);
    expect(values(params, 'encoder.dense.bias')[0]).toBeCloseTo(0.30000001, 6);
    expect(opt.stepCount).toBe(2);
  });

  it('with gradScale, steps as on gradients scaled beforehand (dense and rows)', () => {
    const init = () => store(param('a.weight', [3], [1, -2, 0.5]), param('emb.weight', [3, 2], [1, 2, 3, 4, 5, 6]));
    const scaled = init();
    const reference = init();
    const opt = new AdamW({ weightDecay: 0.1 });
    const ref = new AdamW({ weightDecay: 0.1 });
    for (const s of [0.25, 1, 0.5]) {
      opt.step(scaled, grads({ 'a.weight': dense([0.5, -0.1, 2]), 'emb.weight': rows([2, 0, 2], [0.1, 0.2, 0.3, 0.4, 0.5, -0.6]) }), 0.01, s);
      ref.step(reference, grads({ 'a.weight': dense([0.5 * s, -0.1 * s, 2 * s]), 'emb.weight': rows([2, 0, 2], [0.1, 0.2, 0.3, 0.4, 0.5, -0.6].map((x) => x * s)) }), 0.01);
    }
    for (const name of ['a.weight', 'emb.weight']) {
      values(scaled, name).forEach((v, i) => expect(v).toBeCloseTo(values(reference, name)[i] as number, 6));
    }
  });

  it('rejects a gradScale that is not a finite number > 0', () => {
    const params = store(param('a.weight', [1], [1]));
    for (const s of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new AdamW().step(params, grads({ 'a.weight': dense([1]) }), 0.1, s)).toThrow(/gradScale/);
    }
    expect(values(params, 'a.weight')).toEqual([1]);
  });

  it('leaves parameters without a gradient untouched', () => {
    const params = store(param('a.weight', [1], [1]), param('b.weight', [1], [2]));
    new AdamW().step(params, grads({ 'a.weight': dense([1]) }), 0.1);
    expect(values(params, 'a.weight')[0]).not.toBe(1);
    expect(values(params, 'b.weight')).toEqual([2]);
  });

  it('updates only the rows used, summing duplicate indices', () => {
    // Table [4, 2]; rows 2, 0, 2 are used: row 2's gradient is (0.1, 0.2) + (0.5, -0.6) = (0.6, -0.4).
    const init = [1, 2, 3, 4, 5, 6, 7, 8];
    const lazy = store(param('embeddings.word_embeddings.weight', [4, 2], init));
    const full = store(param('embeddings.word_embeddings.weight', [4, 2], init));
    const opt = new AdamW({ weightDecay: 0.1 });
    const reference = new AdamW({ weightDecay: 0.1 });

    opt.step(lazy, grads({ 'embeddings.word_embeddings.weight': rows([2, 0, 2], [0.1, 0.2, 0.3, 0.4, 0.5, -0.6]) }), 0.01);
    reference.step(full, grads({ 'embeddings.word_embeddings.weight': dense([0.3, 0.4, 0, 0, 0.6, -0.4, 0, 0]) }), 0.01);

    const got = values(lazy, 'embeddings.word_embeddings.weight');
    const want = values(full, 'embeddings.word_embeddings.weight');
    // Used rows 0 and 2 equal the dense update (decayed, and moved against the summed gradient's sign).
    expect(got.slice(0, 2)).toEqual(want.slice(0, 2));
    expect(got.slice(4, 6)).toEqual(want.slice(4, 6));
    expect(got[4]).toBeLessThan(5);
    expect(got[5]).toBeGreaterThan(6);
    // Unused rows 1 and 3 keep their values even though weight decay applies to this parameter (the dense
    // update decays them).
    expect(got.slice(2, 4)).toEqual([3, 4]);
    expect(got.slice(6, 8)).toEqual([7, 8]);
    expect(want[2]).not.toBe(3);

    // Moments exist only where rows were used.
    // m = (1 - b1) · g on the first step, with row 2's duplicates summed.
    const m = Array.from(opt.state().buffers.get(stateKey('exp_avg', 'embeddings.word_embeddings.weight')) ?? []);
    const expectedM = [0.03, 0.04, 0, 0, 0.06, -0.04, 0, 0];
    expect(m).toHaveLength(8);
    expectedM.forEach((v, i) => expect(m[i]).toBeCloseTo(v, 7));
  });

  it('rejects gradients for unknown parameters or of the wrong size, changing nothing', () => {
    const params = store(param('a.weight', [2], [1, 2]), param('emb.weight', [3, 2], [0, 0, 0, 0, 0, 0]));
    const opt = new AdamW();
    expect(() => opt.step(params, grads({ 'a.weight': dense([1, 1]), 'nope.weight': dense([1]) }), 0.1))
      .toThrow(/tensor "nope\.weight": the gradient has no parameter/);
    expect(() => opt.step(params, grads({ 'a.weight': dense([1, 1, 1]) }), 0.1))
      .toThrow(/"a\.weight".*expected 2 values; received 3/);
    expect(() => opt.step(params, grads({ 'a.weight': dense([1, 1]), 'emb.weight': rows([3], [1, 1]) }), 0.1))
      .toThrow(/index 3 at position 0.*\[0, 3\)/);
    expect(() => opt.step(params, grads({ 'emb.weight': rows([0], [1, 1, 1]) }), 0.1))
      .toThrow(/"emb\.weight".*expected 2 values per row; received 3/);
    expect(() => opt.step(params, grads({}), Number.NaN)).toThrow(/learning rate/);
    expect(thrown(() => opt.step(params, grads({ 'a.weight': dense([1, 1, 1]) }), 0.1))).toMatchObject({
      code: 'BAD_ARGUMENT', kind: 'usage', where: { api: 'AdamW.step', tensor: 'a.weight' },
    });
    expect(thrown(() => opt.step(params, grads({}), -1))).toMatchObject({ code: 'BAD_ARGUMENT', where: { api: 'AdamW.step', field: 'learning rate' } });
    // The first bad call held a valid gradient for a.weight: validation runs before any update.
    expect(values(params, 'a.weight')).toEqual([1, 2]);
    expect(opt.stepCount).toBe(0);
  });

  it('continues identically after state() and loadState()', () => {
    const start = store(param('layer.weight', [3], [0.5, -1, 2]), param('emb.weight', [3, 1], [1, 2, 3]));
    const batches = [
      grads({ 'layer.weight': dense([0.1, -0.2, 0.3]), 'emb.weight': rows([0, 2, 0], [1, -1, 0.5]) }),
      grads({ 'layer.weight': dense([-0.3, 0.2, 0.05]), 'emb.weight': rows([1], [0.25]) }),
      grads({ 'layer.weight': dense([0.2, 0.2, -0.4]), 'emb.weight': rows([2, 1], [0.7, -0.1]) }),
    ];
    const original = new AdamW({ eps: 1e-6 });
    for (const g of batches.slice(0, 2)) original.step(start, g, 1e-2);

    const saved = original.state();
    const resumedParams = cloneStore(start);
    const resumed = new AdamW({ eps: 1e-6 });
    resumed.loadState(saved, resumedParams);
    expect(resumed.stepCount).toBe(2);

    original.step(start, batches[2]!, 1e-2);
    resumed.step(resumedParams, batches[2]!, 1e-2);
    expect(values(resumedParams, 'layer.weight')).toEqual(values(start, 'layer.weight'));
    expect(values(resumedParams, 'emb.weight')).toEqual(values(start, 'emb.weight'));
    // state() is a snapshot: the step taken after it did not change it.
    expect(saved.step).toBe(2);
    expect(saved.buffers.get('exp_avg/layer.weight')).not.toEqual(original.state().buffers.get('exp_avg/layer.weight'));
  });

  it('rejects a state that does not match the parameters', () => {
    const params = store(param('layer.weight', [3], [0, 0, 0]));
    const opt = new AdamW();
    const wrongSize = { kind: 'adamw', step: 1, buffers: new Map([['exp_avg/layer.weight', new Float32Array(4)]]) };
    expect(() => opt.loadState(wrongSize, params)).toThrow(XlmtError);
    expect(thrown(() => opt.loadState(wrongSize, params))).toMatchObject({
      code: 'BAD_OPTIMIZER_STATE', kind: 'input', where: { api: 'AdamW.loadState', tensor: 'layer.weight' }, expected: '3 values', received: '4',
    });
    expect(() => opt.loadState(wrongSize, params)).toThrow(/"layer\.weight".*expected 3 values; received 4/);
    const unknown = { kind: 'adamw', step: 1, buffers: new Map([['exp_avg/other.weight', new Float32Array(3)]]) };
    expect(() => opt.loadState(unknown, params)).toThrow(/tensor "other\.weight".*which the store does not hold/);
    const badSlot = { kind: 'adamw', step: 1, buffers: new Map([['momentum/layer.weight', new Float32Array(3)]]) };
    expect(() => opt.loadState(badSlot, params)).toThrow(/unknown slot/);
    expect(() => opt.loadState(new SGD({ momentum: 0.9 }).state(), params)).toThrow(/kind "adamw".*"sgd"/);
    // A rejected state leaves the optimizer as it was.
    expect(opt.stepCount).toBe(0);
    expect(opt.state().buffers.size).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new AdamW({ betas: [1, 0.999] })).toThrow(/betas\[0\]/);
    expect(() => new AdamW({ eps: 0 })).toThrow(/eps/);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(/weightDecay/);
  });
});

describe('decaysByDefault', () => {
  it.each([
    ['bert.encoder.layer.0.attention.self.query.weight', true],
    ['bert.encoder.layer.0.attention.self.query.bias', false],
    ['roberta.embeddings.LayerNorm.weight', false],
    ['encoder.block.0.layer.0.layer_norm.weight', false],
    ['decoder.final_layer_norm.weight', false],
    ['transformer.ln_f.weight', false],
    ['transformer.h.0.ln_1.weight', false],
    ['classifier.bias', false],
    ['roberta.embeddings.word_embeddings.weight', true],
    ['kiln.weight', true],
  ])('%s → %s', (name, expected) => {
    expect(decaysByDefault(name)).toBe(expected);
  });
});

/** The XlmtError `f` throws, as its JSON data. */
function thrown(f: () => unknown): ErrorJson {
  try {
    f();
  } catch (e) {
    if (e instanceof XlmtError) return e.toJSON();
    throw e;
  }
  throw new Error('expected an XlmtError');
}

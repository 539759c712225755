// Q8BERT's moving-average activation ranges on known sequences: the first observation sets the range, each later
// one moves it by (1 − decay); feeds, checkpoints and refusals.
import { describe, expect, it } from 'vitest';
import { EmaRanges, Q8BERT_EMA_DECAY } from '../../../src/compress/quantize/ema-ranges.ts';
import { lsqInitialSteps } from '../../../src/compress/quantize/lsq.ts';
import { XlmtError } from '../../../src/errors/index.ts';

const observe = (ranges: EmaRanges, values: Record<string, number>): void => ranges.observe(new Map(Object.entries(values)));

describe('EmaRanges', () => {
  it('follows range ← range − (1 − decay)·(range − max|x|) after the first observation', () => {
    const ranges = new EmaRanges(['a', 'b'], 0.5);
    expect(ranges.range('a')).toBeUndefined();
    const seen: [number | undefined, number | undefined][] = [];
    for (const [a, b] of [[4, 1], [2, 1], [6, 0], [6, 3]] as const) {
      observe(ranges, { a, b });
      seen.push([ranges.range('a'), ranges.range('b')]);
    }
    expect(seen).toEqual([[4, 1], [3, 1], [4.5, 0.5], [5.25, 1.75]]);
  });

  it('with Q8BERT\'s decay barely moves: 1 then 2 gives 1.0001', () => {
    const ranges = new EmaRanges(['x']);
    expect(ranges.decay).toBe(Q8BERT_EMA_DECAY);
    observe(ranges, { x: 1 });
    observe(ranges, { x: 2 });
    expect(ranges.range('x')).toBeCloseTo(1.0001, 12);
  });

  it('after a step change approaches the new level as decay^n', () => {
    const ranges = new EmaRanges(['x'], 0.9);
    observe(ranges, { x: 10 });
    for (let n = 1; n <= 50; n++) {
      observe(ranges, { x: 2 });
      expect(ranges.range('x')).toBeCloseTo(2 + 8 * 0.9 ** n, 10);
    }
  });

  it('feeds 0 until a quantizer is observed, then its range as float32 []', () => {
    const ranges = new EmaRanges(['encoder.layer.0.output.dense'], 0.5);
    expect(ranges.feeds()).toEqual({ 'encoder.layer.0.output.dense.input_range': { dtype: 'float32', shape: [], data: Float32Array.of(0) } });
    ranges.observeOutputs({ 'encoder.layer.0.output.dense.input_max_abs': { dtype: 'float32', shape: [], data: Float32Array.of(0.75) } });
    expect(ranges.feeds()['encoder.layer.0.output.dense.input_range']?.data).toEqual(Float32Array.of(0.75));
  });

  it('refuses a step without every quantizer\'s max|x|, and changes nothing then', () => {
    const ranges = new EmaRanges(['a', 'b'], 0.5);
    observe(ranges, { a: 1, b: 1 });
    for (const bad of [{ a: 2 }, { a: 2, b: Number.NaN }, { a: 2, b: -1 }]) {
      expect(() => observe(ranges, bad)).toThrow(XlmtError);
      expect([ranges.range('a'), ranges.range('b')]).toEqual([1, 1]);
    }
    try {
      observe(ranges, { a: 2 });
    } catch (e) {
      expect((e as XlmtError).where).toEqual({ api: 'EmaRanges.observe', tensor: 'b.input_max_abs' });
    }
  });

  it('refuses a decay outside [0, 1) and a quantizer named twice', () => {
    for (const decay of [1, -0.1, Number.NaN]) expect(() => new EmaRanges(['a'], decay)).toThrow(/not a moving-average decay/);
    expect(() => new EmaRanges(['a', 'a'])).toThrow(/named twice/);
  });

  it('comes back from a checkpoint as it was, and refuses ranges of another graph', () => {
    const ranges = new EmaRanges(['a', 'b'], 0.5);
    observe(ranges, { a: 3, b: 5 });
    const resumed = EmaRanges.fromJSON(['a', 'b'], JSON.parse(JSON.stringify(ranges)) as Record<string, number>, 0.5);
    observe(ranges, { a: 1, b: 1 });
    observe(resumed, { a: 1, b: 1 });
    expect(resumed.toJSON()).toEqual(ranges.toJSON());
    expect(() => EmaRanges.fromJSON(['a'], { a: 1, c: 2 })).toThrow(/names no quantizer/);
    expect(() => EmaRanges.fromJSON(['a'], { a: -1 })).toThrow(/not a range/);
  });
});

describe('lsqInitialSteps', () => {
  it('starts each step at range/127 (1 for a range of 0), and needs every range', () => {
    const ranges = new EmaRanges(['a', 'b'], 0.5);
    expect(() => lsqInitialSteps(ranges)).toThrow(/no observed range/);
    observe(ranges, { a: 2.54, b: 0 });
    const steps = lsqInitialSteps(ranges);
    expect([...steps.keys()]).toEqual(['a.input_scale', 'b.input_scale']);
    expect(steps.get('a.input_scale')?.data).toEqual(Float32Array.of(0.02));
    expect(steps.get('a.input_scale')?.shape).toEqual([]);
    expect(steps.get('b.input_scale')?.data).toEqual(Float32Array.of(1));
  });
});

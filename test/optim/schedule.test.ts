// Learning-rate schedules at key steps, against Hugging Face's formulas worked out by hand.
import { describe, expect, it } from 'vitest';
import { constantSchedule, cosineSchedule, linearSchedule, makeSchedule } from '../../src/optim/index.ts';

// Peak 1e-3, 10 warmup steps, 110 in all: the decay phase lasts 100 steps.
const options = { lr: 1e-3, warmupSteps: 10, totalSteps: 110 };

describe('schedules', () => {
  it('constant returns the rate at every step', () => {
    const lrAt = constantSchedule(2e-5);
    expect([0, 1, 1000].map(lrAt)).toEqual([2e-5, 2e-5, 2e-5]);
  });

  it('linear warms up from 0 then decays linearly to 0 (HF get_linear_schedule_with_warmup)', () => {
    const lrAt = linearSchedule(options);
    expect(lrAt(0)).toBe(0); // 0/10
    expect(lrAt(5)).toBeCloseTo(5e-4, 12); // 5/10
    expect(lrAt(10)).toBeCloseTo(1e-3, 12); // (110 - 10)/100
    expect(lrAt(60)).toBeCloseTo(5e-4, 12); // (110 - 60)/100
    expect(lrAt(109)).toBeCloseTo(1e-5, 12); // (110 - 109)/100
    expect(lrAt(110)).toBe(0);
    expect(lrAt(500)).toBe(0); // max(0, negative)
  });

  it('cosine warms up then follows half a cosine to 0 (HF get_cosine_schedule_with_warmup)', () => {
    const lrAt = cosineSchedule(options);
    expect(lrAt(0)).toBe(0);
    expect(lrAt(5)).toBeCloseTo(5e-4, 12);
    expect(lrAt(10)).toBeCloseTo(1e-3, 12); // progress 0: ½(1 + cos 0) = 1
    expect(lrAt(35)).toBeCloseTo(1e-3 * 0.8535533906, 12); // progress 0.25: ½(1 + cos(π/4))
    expect(lrAt(60)).toBeCloseTo(5e-4, 12); // progress 0.5: ½(1 + cos(π/2))
    expect(lrAt(110)).toBeCloseTo(0, 12); // progress 1: ½(1 + cos π)
    expect(lrAt(300)).toBeCloseTo(0, 12); // held after the end, where HF's formula would rise again
  });

  it('supports no warmup and warmup equal to training', () => {
    expect(linearSchedule({ lr: 1, warmupSteps: 0, totalSteps: 4 })(0)).toBe(1);
    const allWarmup = linearSchedule({ lr: 1, warmupSteps: 4, totalSteps: 4 });
    expect([0, 2, 4].map(allWarmup)).toEqual([0, 0.5, 0]);
  });

  it('is built from configuration data', () => {
    expect(makeSchedule({ kind: 'cosine', ...options })(60)).toBeCloseTo(5e-4, 12);
    expect(makeSchedule({ kind: 'linear', ...options })(60)).toBeCloseTo(5e-4, 12);
    expect(makeSchedule({ kind: 'constant', lr: 3 })(7)).toBe(3);
  });

  it('validates its arguments', () => {
    expect(() => linearSchedule({ lr: 1, warmupSteps: 20, totalSteps: 10 })).toThrow(/warmupSteps <= totalSteps \(10\).*20/);
    expect(() => linearSchedule({ lr: 1, warmupSteps: 0, totalSteps: 0 })).toThrow(/totalSteps/);
    expect(() => cosineSchedule({ lr: -1, warmupSteps: 0, totalSteps: 10 })).toThrow(/invalid lr/);
    expect(() => linearSchedule({ lr: 1, warmupSteps: 1.5, totalSteps: 10 })).toThrow(/warmupSteps/);
    expect(() => linearSchedule(options)(-1)).toThrow(/invalid step/);
  });
});

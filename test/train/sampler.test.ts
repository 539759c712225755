// Task sampling: batch composition per strategy, determinism per (seed, epoch).
import { describe, expect, it } from 'vitest';
import { planEpoch, type SamplerOptions } from '../../src/train/sampler.ts';

const members = new Map([
  ['big', Array.from({ length: 900 }, (_, i) => i)],
  ['small', Array.from({ length: 100 }, (_, i) => 900 + i)],
]);
const base: SamplerOptions = { batchSize: 10, sampling: 'proportional', temperature: 1, seed: 1 };
const share = (o: SamplerOptions): number => {
  let small = 0;
  let all = 0;
  for (let epoch = 0; epoch < 20; epoch++) {
    for (const b of planEpoch(members, epoch, o)) {
      all++;
      if (b.task === 'small') small++;
    }
  }
  return small / all;
};

describe('planEpoch', () => {
  it('has ⌈Σn/B⌉ batches of one task each, drawn from that task only', () => {
    const batches = planEpoch(members, 0, base);
    expect(batches).toHaveLength(100);
    for (const b of batches) {
      expect(b.examples).toHaveLength(10);
      expect(b.examples.every((i) => (b.task === 'small' ? i >= 900 : i < 900))).toBe(true);
    }
  });

  it('samples tasks in proportion to their size, flattened by temperature, or in turn', () => {
    expect(share(base)).toBeGreaterThan(0.07);
    expect(share(base)).toBeLessThan(0.13);
    // T = 3: 100^(1/3) / (900^(1/3) + 100^(1/3)) ≈ 0.325
    const hot = share({ ...base, sampling: 'temperature', temperature: 3 });
    expect(hot).toBeGreaterThan(0.29);
    expect(hot).toBeLessThan(0.36);
    const turns = planEpoch(members, 0, { ...base, sampling: 'round-robin' }).map((b) => b.task);
    expect(turns.slice(0, 4)).toEqual(['big', 'small', 'big', 'small']);
  });

  it('sees every example of a task before repeating one', () => {
    const seen = planEpoch(members, 0, { ...base, sampling: 'round-robin' })
      .filter((b) => b.task === 'small')
      .slice(0, 10)
      .flatMap((b) => b.examples);
    expect(new Set(seen).size).toBe(100);
  });

  it('is a pure function of seed and epoch', () => {
    expect(planEpoch(members, 3, base)).toEqual(planEpoch(members, 3, base));
    expect(planEpoch(members, 3, base)).not.toEqual(planEpoch(members, 4, base));
    expect(planEpoch(members, 3, base)).not.toEqual(planEpoch(members, 3, { ...base, seed: 2 }));
  });

  it('groups similar lengths into a batch when given lengths, still covering every example', () => {
    const lengths = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 97);
    const spread = (o: SamplerOptions): number => {
      const batches = planEpoch(members, 0, o).filter((b) => b.examples.length === 10);
      const width = batches.map((b) => Math.max(...b.examples.map((e) => lengths[e] as number)) - Math.min(...b.examples.map((e) => lengths[e] as number)));
      return width.reduce((a, b) => a + b, 0) / width.length;
    };
    const grouped: SamplerOptions = { ...base, lengths, groupWindow: 20 };
    expect(spread(grouped)).toBeLessThan(spread(base) / 4);
    const seen = planEpoch(members, 0, grouped).filter((b) => b.task === 'big').flatMap((b) => b.examples);
    expect(new Set(seen.slice(0, 900)).size).toBe(Math.min(900, seen.length));
    expect(planEpoch(members, 3, grouped)).toEqual(planEpoch(members, 3, grouped));
  });

  it('rejects a dataset with no labeled examples', () => {
    expect(() => planEpoch(new Map([['a', []]]), 0, base)).toThrow(/no task has labeled examples/);
  });
});

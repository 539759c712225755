// `xlmt bench infer`: the pruned or trimmed shape of a preset timed beside the preset (--prune-*, --trim-vocab), and --profile.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { benchInfer, INFER_BENCH_DEFAULTS } from '../../src/bench/infer.ts';
import { applyShape, describeShape } from '../../src/bench/shapes.ts';
import { preset } from '../../src/checkpoint/presets.ts';
import { layerShapes } from '../../src/models/config.ts';

describe('applyShape', () => {
  const base = preset('xlm-roberta-base').config.encoder;

  it('keeps the lowest layers, the first heads and a narrower FFN in every layer, and fewer rows', () => {
    const c = applyShape(base, { layers: 6, heads: 6, ffn: 1536, vocab: 60000 }, 'xlm-roberta-base');
    expect(c.numHiddenLayers).toBe(6);
    expect(c.vocabSize).toBe(60000);
    expect(layerShapes(c).map((s) => [s.heads.length, s.attentionSize, s.intermediateSize])).toEqual(Array.from({ length: 6 }, () => [6, 384, 1536]));
    expect(describeShape({ layers: 6, heads: 6, ffn: 1536, vocab: 60000 })).toBe('6 layers, 6 heads, FFN 1536, 60,000 rows');
  });

  it('refuses what the preset cannot take, naming the flag', () => {
    expect(() => applyShape(base, { heads: 13 }, 'xlm-roberta-base')).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--prune-heads' } }));
  });
});

describe('benchInfer with a shape', () => {
  it('times the preset and its pruned, trimmed shape in one run, with sizes and the speedup over the unpruned', async () => {
    const r = await benchInfer({ ...INFER_BENCH_DEFAULTS, models: ['xtremedistil-l6-h256-uncased'], batch: 2, seq: 8, iterations: 1, warmup: 0, threads: 1, shape: { heads: 4, ffn: 256, vocab: 2000 } });
    expect(r.rows.map((row) => [row.shape, row.variant])).toEqual([['', 'fp32'], ['', 'int8'], ['4 heads, FFN 256, 2,000 rows', 'fp32'], ['4 heads, FFN 256, 2,000 rows', 'int8']]);
    const [full, , pruned, prunedInt8] = r.rows;
    expect(full?.speedupOverUnpruned).toBeNull();
    expect(pruned?.speedupOverUnpruned).toBeGreaterThan(0);
    expect(pruned?.modelMb).toBeLessThan((full?.modelMb ?? 0) / 4);
    expect(prunedInt8?.modelMb).toBeLessThan(pruned?.modelMb ?? 0);
  }, 60_000);
});

describe('benchInfer --profile', () => {
  it('reports kernel time per op type for every variant, the int8 graph\'s own kernels among them, and leaves no profile behind', async () => {
    const leftovers = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('xlmt-bench-infer-'));
    const before = leftovers();
    const r = await benchInfer({ ...INFER_BENCH_DEFAULTS, models: ['xtremedistil-l6-h256-uncased'], batch: 2, seq: 8, iterations: 1, warmup: 0, threads: 1, profile: true });
    const [fp32, int8] = r.rows;
    const ops = (row: typeof fp32): string[] => (row?.opTypes ?? []).map((t) => t.opType);
    expect(ops(int8)).toEqual(expect.arrayContaining(['DynamicQuantizeMatMul', 'QAttention']));
    expect(ops(fp32)).not.toContain('DynamicQuantizeMatMul');
    for (const row of r.rows) {
      const shares = (row.opTypes ?? []).reduce((a, t) => a + t.share, 0);
      expect(shares).toBeCloseTo(1, 6);
      expect(row.opTypes?.every((t, i, all) => i === 0 || all[i - 1]!.ms >= t.ms)).toBe(true);
    }
    expect(leftovers()).toEqual(before);
    // Without the option nothing is profiled.
    const plain = await benchInfer({ ...INFER_BENCH_DEFAULTS, models: ['xtremedistil-l6-h256-uncased'], batch: 2, seq: 8, iterations: 1, warmup: 0, threads: 1 });
    expect(plain.rows.every((row) => row.opTypes === undefined)).toBe(true);
  }, 60_000);
});

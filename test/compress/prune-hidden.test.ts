// `xlmt prune hidden`: the config narrowed with heads of the same size, the coordinates a model uses most kept (a
// model made to lean on some coordinates keeps exactly those), every weight the slice of the one it was; the output
// exports, classifies and trains on; bad requests are refused with nothing written.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pruneHeadsFfn } from '../../src/compress/prune/heads-ffn.ts';
import { narrowedConfig, pruneHidden, topCoordinates } from '../../src/compress/prune/hidden.ts';
import { cutNormOutput } from '../../src/compress/prune/hidden-stats.ts';
import { Random } from '../../src/util/random.ts';
import { logits } from './logits.ts';
import { exportModel } from '../../src/export/export.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { encoderConfig, layerShapes } from '../../src/models/config.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { loadModelDir, writeModelFiles } from '../../src/train/model-dir.ts';
import { runTraining } from '../../src/train/run.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
/** 2 layers, hidden 16, 4 heads of 4, pruned to 2 heads a layer: hidden 8 holds them. */
let twoHeads: string;

beforeAll(async () => {
  data = await runFixture(48, 12);
  const run = await trainedRun(data, { layers: 2, heads: 4, ffn: 24 });
  twoHeads = join(data.dir, 'two-heads');
  await pruneHeadsFfn(run, twoHeads, { data: data.train, heads: 2, even: true, iterations: 1, method: 'importance', samples: 20, batchSize: 8, threads: 1, seed: 1 });
}, 90_000);

const base = { vocabSize: 50, hiddenSize: 384, numHiddenLayers: 3, numAttentionHeads: 12, intermediateSize: 1536 };

describe('narrowedConfig', () => {
  it('keeps the head size: 384 with 6 heads a layer becomes 192 with 6 heads and none pruned', () => {
    const six = encoderConfig({ ...base, prunedHeads: { 0: [0, 2, 4, 6, 8, 10], 1: [6, 7, 8, 9, 10, 11], 2: [0, 1, 2, 3, 4, 5] } });
    const narrow = narrowedConfig(six, 192);
    expect(narrow.hiddenSize).toBe(192);
    expect(narrow.numAttentionHeads).toBe(6);
    expect(narrow.prunedHeads).toBeUndefined();
    expect(layerShapes(narrow).map((s) => [s.heads.length, s.headSize, s.intermediateSize])).toEqual([[6, 32, 1536], [6, 32, 1536], [6, 32, 1536]]);
  });

  it('renumbers a layer with fewer heads from 0 and keeps per-layer FFN sizes', () => {
    const mixed = encoderConfig({ ...base, prunedHeads: { 0: [0, 1, 2, 3, 4, 5], 1: [0, 1, 2, 3, 4, 5, 6, 7], 2: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, intermediateSizes: [768, 512, 1536] });
    const narrow = narrowedConfig(mixed, 192);
    expect(layerShapes(narrow).map((s) => s.heads)).toEqual([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3], [0]]);
    expect(layerShapes(narrow).map((s) => s.intermediateSize)).toEqual([768, 512, 1536]);
  });

  it.each([
    [384, 'hidden size is 384'],
    [0, 'hidden size is 384'],
    [200, 'whole number'],
    [160, 'layer 0 keeps 12 heads'],
  ])('refuses --keep %i', (keep, message) => {
    expect(() => narrowedConfig(encoderConfig(base), keep)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--keep' }, message: expect.stringContaining(message) as unknown }));
  });
});

describe('cutNormOutput', () => {
  it('gives the LayerNorm of the kept pre-norm values from the full LayerNorm\'s output', () => {
    const random = new Random(5);
    const hidden = 12;
    const kept = [0, 3, 4, 7, 9, 11];
    const z = Float64Array.from({ length: hidden }, () => 3 * random.normal() + 1);
    const gamma = Float32Array.from({ length: hidden }, () => 0.5 + random.next());
    const beta = Float32Array.from({ length: hidden }, () => random.normal());
    const norm = (values: readonly number[], g: readonly number[], b: readonly number[]): number[] => {
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
      return values.map((v, i) => ((g[i] as number) * (v - mean)) / std + (b[i] as number));
    };
    const full = Float64Array.from(norm([...z], [...gamma], [...beta]));
    const out = new Float64Array(kept.length);
    cutNormOutput(full, 0, kept, gamma, beta, out);
    const expected = norm(kept.map((i) => z[i] as number), kept.map((i) => gamma[i] as number), kept.map((i) => beta[i] as number));
    [...out].forEach((v, p) => expect(v).toBeCloseTo(expected[p] as number, 10));
  });
});

describe('topCoordinates', () => {
  it('keeps the highest scores, ascending, ties to the lower index', () => {
    expect(topCoordinates(Float64Array.from([0.5, 3, 1, 3, 0.1, 2]), 3)).toEqual([1, 3, 5]);
    expect(topCoordinates(Float64Array.from([1, 1, 1, 1]), 2)).toEqual([0, 1]);
  });
});

describe('prune hidden', () => {
  it('keeps the coordinates a model leans on: those its LayerNorms scale up', async () => {
    const model = await loadModelDir(twoHeads);
    const loud = [1, 6, 11, 12, 13, 14, 15, 3];
    const params = new Map(model.params);
    for (const [name, p] of model.params) {
      if (!/LayerNorm\.weight$/.test(name)) continue;
      const scaled = p.data.slice();
      for (const i of loud) scaled[i] = (scaled[i] as number) * 20;
      params.set(name, { ...p, data: scaled });
    }
    const leaning = join(data.dir, 'leaning');
    await writeModelFiles(leaning, { ...model, params });
    const out = join(data.dir, 'leaning-8');
    const report = await pruneHidden(leaning, out, { keep: 8, data: data.train, samples: 30, batchSize: 8, threads: 1 });
    expect(report.kept).toEqual([...loud].sort((a, b) => a - b));
    expect(report.texts).toBe(30);
    expect(report.scoreKept).toBeGreaterThan(0.8);
  });

  it('slices every weight to the kept coordinates and records the pass', async () => {
    const out = join(data.dir, 'even-8');
    const report = await pruneHidden(twoHeads, out, { keep: 8, method: 'even', compensation: 'none' });
    expect(report.kept).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    const before = await loadModelDir(twoHeads);
    const after = await loadModelDir(out);
    expect(after.hf.encoder.hiddenSize).toBe(8);
    expect(layerShapes(after.hf.encoder).map((s) => s.heads.length)).toEqual([2, 2]);
    const slice = (name: string, rows: readonly number[] | null, cols: readonly number[] | null): number[] => {
      const p = before.params.get(name) as Parameter;
      const width = p.shape.length === 2 ? (p.shape[1] as number) : (p.shape[0] as number);
      const height = p.shape.length === 2 ? (p.shape[0] as number) : 1;
      const r = rows ?? Array.from({ length: height }, (_, i) => i);
      const c = cols ?? Array.from({ length: width }, (_, i) => i);
      return r.flatMap((i) => c.map((j) => p.data[i * width + j] as number));
    };
    const kept = report.kept;
    expect([...(after.params.get('embeddings.word_embeddings.weight') as Parameter).data]).toEqual(slice('embeddings.word_embeddings.weight', null, kept));
    expect([...(after.params.get('encoder.layer.1.attention.self.query.weight') as Parameter).data]).toEqual(slice('encoder.layer.1.attention.self.query.weight', null, kept));
    expect([...(after.params.get('encoder.layer.1.output.dense.weight') as Parameter).data]).toEqual(slice('encoder.layer.1.output.dense.weight', kept, null));
    expect([...(after.params.get('encoder.layer.0.output.LayerNorm.weight') as Parameter).data]).toEqual(slice('encoder.layer.0.output.LayerNorm.weight', null, kept));
    expect([...(after.params.get('encoder.layer.0.intermediate.dense.bias') as Parameter).data]).toEqual(slice('encoder.layer.0.intermediate.dense.bias', null, null));
    expect(after.meta.thresholds).toEqual(before.meta.thresholds);
    expect(after.meta.info['compression']).toEqual(expect.arrayContaining([expect.objectContaining({ command: 'prune hidden', method: 'even', compensation: 'none', hidden: [16, 8], kept })]));
  });

  it('compensates: the cut model\'s logits come closer to the uncut model\'s than with the coordinates dropped', async () => {
    const distance = async (cut: string): Promise<number> => {
      const [a, b] = await Promise.all([logits(twoHeads, data.dev), logits(cut, data.dev)]);
      return a.reduce((sum, v, i) => sum + (v - (b[i] as number)) ** 2, 0);
    };
    const dropped = join(data.dir, 'dropped-8');
    const compensated = join(data.dir, 'compensated-8');
    await pruneHidden(twoHeads, dropped, { keep: 8, data: data.train, compensation: 'none', threads: 1 });
    const report = await pruneHidden(twoHeads, compensated, { keep: 8, data: data.train, threads: 1 });
    expect(report.compensation).toBe('regression');
    const [off, on] = [await distance(dropped), await distance(compensated)];
    expect(on).toBeLessThan(0.5 * off);
  });

  it('measures on the text column of a labeled CSV', async () => {
    const csv = join(data.dir, 'texts.csv');
    writeFileSync(csv, 'text,sentiment\n"great staff, fair price",positive\nslow and rude,negative\nfine,\n');
    const report = await pruneHidden(twoHeads, join(data.dir, 'from-csv'), { keep: 8, data: csv, threads: 1 });
    expect(report.texts).toBe(3);
  });

  it('gives a model that exports, classifies and trains on (train --init)', async () => {
    const out = join(data.dir, 'narrow-export-src');
    await pruneHidden(twoHeads, out, { keep: 8, data: data.dev, threads: 1 });
    const exported = join(data.dir, 'narrow-export');
    await exportModel(out, exported, { quantization: 'none', checkSample: 10, threads: 1, checkData: data.dev });
    const classifier = await OnnxClassifier.load(exported, { threads: 1 });
    const [prediction] = await classifier.classify(['the service was great']);
    expect(Object.keys(prediction?.tasks ?? {})).toEqual(expect.arrayContaining(['sentiment']));
    await classifier.release();
    const retrained = join(data.dir, 'narrow-retrained');
    await runTraining(parseTrainConfig({ train: data.train, dev: data.dev, tasks: data.tasks, init: out, out: retrained, maxLength: 16, batchSize: 8, epochs: 1, threads: 1 }, 'test'), { log: () => {} });
    expect((await loadModelDir(join(retrained, 'best'))).hf.encoder.hiddenSize).toBe(8);
  });

  it('refuses, writing nothing: ranking or compensation without texts; a size the heads do not fit (from the CLI)', async () => {
    const out = join(data.dir, 'refused');
    await expect(pruneHidden(twoHeads, out, { keep: 8 })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--data' }, message: expect.stringContaining('ranking') as unknown });
    await expect(pruneHidden(twoHeads, out, { keep: 8, method: 'even' })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--data' }, message: expect.stringContaining('compensating') as unknown });
    const cli = await runXlmt(['prune', 'hidden', '--model', twoHeads, '--keep', '4', '--data', data.train, '--out', out]);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toMatch(/layer 0 keeps 2 heads of size 4.*prune heads first/is);
    expect(existsSync(out)).toBe(false);
  });

  it('prints what it kept from the CLI', async () => {
    const out = join(data.dir, 'cli-8');
    const cli = await runXlmt(['prune', 'hidden', '--model', twoHeads, '--keep', '8', '--data', data.train, '--samples', '20', '--threads', '1', '--out', out]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/wrote .*cli-8: hidden 8 of 16 \(by activation on 20 texts, \d+\.\d% of the summed scores kept; compensated by regression on 20 texts\)/);
  });
});

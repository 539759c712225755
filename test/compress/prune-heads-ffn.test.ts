// `xlmt prune heads-ffn`: importance finds the units a model uses, tasks count alike, budgets hold, the cut model
// equals the masked one and works downstream; bad requests are refused with nothing written.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HeadsFfnOptions, pruneHeadsFfn } from '../../src/compress/prune/heads-ffn.ts';
import { fullMasks, ImportanceProbe, taskBatches } from '../../src/compress/prune/importance.ts';
import { combineTasks, roundBudget, selectUnits, survivingShare } from '../../src/compress/prune/select.ts';
import { loadDataset } from '../../src/data/index.ts';
import { exportModel } from '../../src/export/export.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { layerShapes } from '../../src/models/config.ts';
import { encodeExamples } from '../../src/train/examples.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { loadModelDir, type TrainedModel, writeModelFiles } from '../../src/train/model-dir.ts';
import { runTraining } from '../../src/train/run.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let run: string;
const OPTIONS: HeadsFfnOptions = { data: '', iterations: 2, even: false, method: 'importance', samples: 40, batchSize: 8, threads: 1, seed: 3 };

beforeAll(async () => {
  data = await runFixture(48, 12);
  run = await trainedRun(data, { layers: 2, heads: 4, ffn: 24, epochs: 2 });
}, 90_000);

/** The model with the listed columns of a matrix zeroed: the units feeding them no longer matter. */
function silence(model: TrainedModel, name: string, keepColumns: readonly number[]): TrainedModel {
  const params = new Map(model.params);
  const p = params.get(name) as Parameter;
  const width = p.shape[1] as number;
  const data = p.data.slice();
  for (let r = 0; r < (p.shape[0] as number); r++) for (let c = 0; c < width; c++) if (!keepColumns.includes(c)) data[r * width + c] = 0;
  params.set(name, { ...p, data });
  return { ...model, params };
}

describe('importance', () => {
  it('is zero for units whose output the model ignores and positive for the one it uses', async () => {
    let model = await loadModelDir(join(run, 'best'));
    model = silence(model, 'encoder.layer.0.attention.output.dense.weight', [8, 9, 10, 11]); // head 2 of 4 (size 4)
    model = silence(model, 'encoder.layer.1.output.dense.weight', [5, 17]);
    const dataset = await loadDataset(data.train, { schema: model.schema });
    const encoded = await encodeExamples(model.tokenizer, dataset, model.meta.maxLength);
    const batches = model.schema.tasks.map((t) => taskBatches(model, dataset.examples, encoded, t, dataset.examples.flatMap((e, i) => (e.labels.has(t.name) ? [i] : [])), 8));
    const probe = await ImportanceProbe.create(model, 1);
    const scores = await probe.scores(fullMasks(model), batches);
    await probe.release();
    for (const [task, s] of scores) {
      const heads = [...(s.heads[0] as Float64Array)];
      expect(heads[2], task).toBeGreaterThan(0);
      expect([heads[0], heads[1], heads[3]], task).toEqual([0, 0, 0]);
      const neurons = [...(s.neurons[1] as Float64Array)];
      expect(neurons.filter((x) => x > 0).length, task).toBeGreaterThan(0);
      expect(neurons.every((x, u) => x === 0 || u === 5 || u === 17), task).toBe(true);
    }
    // …and pruning to one head in layer 0 keeps that head.
    const dir = join(data.dir, 'silenced');
    await writeModelFiles(dir, model);
    const out = join(data.dir, 'silenced-pruned');
    await pruneHeadsFfn(dir, out, { ...OPTIONS, data: data.train, headsPerLayer: [1, 4] });
    expect((await loadModelDir(out)).hf.encoder.prunedHeads).toEqual({ 0: [0, 1, 3] });
  }, 60_000);
});

describe('selection', () => {
  it('weighs tasks alike: a task with small gradients keeps the head it needs', () => {
    const big = { heads: [Float64Array.from([100, 90, 0, 1])], neurons: [new Float64Array(1)] };
    const small = { heads: [Float64Array.from([0, 0, 0.01, 0])], neurons: [new Float64Array(1)] };
    const combined = combineTasks(new Map([['big', big], ['small', small]]));
    const keep = selectUnits(combined.heads, [new Float32Array(4).fill(1)], { kind: 'global', total: 3 });
    expect([...(keep[0] as Float32Array)]).toEqual([1, 1, 1, 0]);
    expect(survivingShare(small, { heads: keep, neurons: [new Float32Array(1).fill(1)] }).heads).toBe(1);
  });

  it('ranks globally with at least one unit per layer, or evenly per layer; pruned units stay pruned', () => {
    const scores = [Float64Array.from([0.1, 0.2, 0.3]), Float64Array.from([5, 6, 7])];
    const alive = [Float32Array.from([1, 1, 1]), Float32Array.from([1, 0, 1])];
    expect(selectUnits(scores, alive, { kind: 'global', total: 3 }).map((m) => [...m])).toEqual([[0, 0, 1], [1, 0, 1]]);
    expect(selectUnits(scores, alive, { kind: 'per-layer', counts: [2, 2] }).map((m) => [...m])).toEqual([[0, 1, 1], [1, 0, 1]]);
  });

  it('spreads the budget linearly over the rounds, reaching the target at the last', () => {
    expect([1, 2, 3, 4].map((r) => roundBudget([12, 12], { kind: 'global', total: 12 }, r, 4))).toEqual([21, 18, 15, 12].map((total) => ({ kind: 'global', total })));
    expect(roundBudget([8, 4], { kind: "per-layer", counts: [2, 2] }, 1, 2)).toEqual({ kind: "per-layer", counts: [5, 3] });
  });
});

describe('prune heads-ffn', () => {
  it('keeps the budget, equals the masked model, reports per task, and the output exports', async () => {
    const out = join(data.dir, 'pruned');
    const report = await pruneHeadsFfn(run, out, { ...OPTIONS, data: data.train, heads: 2, ffn: 12 });
    expect(report.headsPerLayer.reduce((a, b) => a + b, 0)).toBe(4);
    expect(report.ffnPerLayer.reduce((a, b) => a + b, 0)).toBe(24);
    expect(report.checkMaxDiff).toBeLessThan(1e-4);
    expect(report.survival.map((s) => s.task).sort()).toEqual(['sentiment', 'topics']);
    for (const s of report.survival) {
      expect(s.heads).toBeGreaterThan(0.3);
      expect(s.heads).toBeLessThanOrEqual(1);
    }
    const model = await loadModelDir(out);
    expect(layerShapes(model.hf.encoder).map((s) => s.heads.length)).toEqual(report.headsPerLayer);
    expect(model.meta.info['compression']).toEqual([expect.objectContaining({ command: 'prune heads-ffn', method: 'importance', rounds: 2 })]);
    await exportModel(out, join(data.dir, 'pruned-export'), { quantization: 'int8-per-channel', checkSample: 10, threads: 1, checkData: data.dev });
    // …and trains on with its uneven shapes (train --init), which the retrained model keeps.
    const retrained = join(data.dir, 'pruned-retrained');
    await runTraining(parseTrainConfig({ train: data.train, dev: data.dev, tasks: data.tasks, init: out, out: retrained, maxLength: 16, batchSize: 8, epochs: 1, threads: 1 }, 'test'), { log: () => {} });
    expect((await loadModelDir(join(retrained, 'best'))).hf.encoder).toEqual(model.hf.encoder);
  }, 60_000);

  it('--even keeps the same count in every layer; --method random keeps the budget too', async () => {
    const even = await pruneHeadsFfn(run, join(data.dir, 'even'), { ...OPTIONS, data: data.train, heads: 3, ffn: 10, even: true });
    expect(even.headsPerLayer).toEqual([3, 3]);
    expect(even.ffnPerLayer).toEqual([10, 10]);
    const random = await pruneHeadsFfn(run, join(data.dir, 'random'), { ...OPTIONS, data: data.train, heads: 3, method: 'random' });
    expect(random.rounds).toBe(1);
    expect(random.headsPerLayer.reduce((a, b) => a + b, 0)).toBe(6);
  }, 60_000);

  it.each([
    [{ heads: 5 }, /asks to keep 5, but there are 4/],
    [{ headsPerLayer: [4] }, /the model has 2 layers/],
    [{ headsPerLayer: [0, 4] }, /asks to keep 0/],
    [{ ffn: 25 }, /asks to keep 25, but there are 24/],
    [{}, /nothing to prune/],
  ] as const)('refuses %j, writing nothing', async (asked, message) => {
    const out = join(data.dir, 'refused');
    await expect(pruneHeadsFfn(run, out, { ...OPTIONS, data: data.train, ...asked })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(message) });
    expect(existsSync(out)).toBe(false);
  });

  it('refuses data with no row for a task, and an --out holding other files', async () => {
    const onlySentiment = join(data.dir, 'only-sentiment.jsonl');
    writeFileSync(onlySentiment, `${JSON.stringify({ text: 'great service', lang: 'en', labels: { sentiment: 'positive' } })}\n`);
    await expect(pruneHeadsFfn(run, join(data.dir, 'refused-2'), { ...OPTIONS, data: onlySentiment, heads: 2 })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { task: 'topics' } });
    const mine = join(data.dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'x');
    await expect(pruneHeadsFfn(run, mine, { ...OPTIONS, data: data.train, heads: 2 })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(mine)).toEqual(['notes.txt']);
  });

  it('on the command line: prints the shapes and the per-task table', () => {
    const r = runXlmt(['prune', 'heads-ffn', '--model', run, '--data', data.train, '--tasks', data.tasks, '--heads', '2', '--iterations', '1', '--samples', '16', '--threads', '1', '--out', join(data.dir, 'cli')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/heads per layer: \d \d\n/);
    expect(r.stdout).toMatch(/\| sentiment \| \d+ \| \d+\.\d% \| 100\.0% \|/);
  }, 30_000);
});

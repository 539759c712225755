// `xlmt prune layers`: the kept layers, renumbered, with everything else of the model; the output evaluates,
// exports, predicts and trains on; bad choices are refused with nothing written.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchInfer, INFER_BENCH_DEFAULTS } from '../../src/bench/infer.ts';
import { dirModel } from '../../src/bench/model-dir-shapes.ts';
import { layersToKeep, pruneLayers } from '../../src/compress/prune/layers.ts';
import { exportModel } from '../../src/export/export.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { loadModelDir } from '../../src/train/model-dir.ts';
import { runTraining } from '../../src/train/run.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let run: string;

beforeAll(async () => {
  data = await runFixture(40, 12);
  run = await trainedRun(data, { layers: 3 });
}, 60_000);

describe('layersToKeep', () => {
  it.each([
    ['top', [0, 1, 2, 3, 4, 5]],
    ['bottom', [6, 7, 8, 9, 10, 11]],
    ['alternate', [0, 2, 4, 6, 8, 10]],
  ] as const)('%s keeps %j of 12 for a count of 6', (strategy, kept) => {
    expect(layersToKeep(12, { keepCount: 6, strategy })).toEqual(kept);
  });

  it('spreads an uneven count evenly and refuses a count the model cannot give', () => {
    expect(layersToKeep(12, { keepCount: 4, strategy: 'alternate' })).toEqual([0, 3, 6, 9]);
    expect(() => layersToKeep(3, { keepCount: 4, strategy: 'top' })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--keep-count' } }));
  });
});

describe('prune layers', () => {
  it('writes the kept layers renumbered, everything else as it was, and records the pass', async () => {
    const out = join(data.dir, 'pruned');
    const report = await pruneLayers(run, out, { keep: [2, 0] });
    expect(report.kept).toEqual([0, 2]);
    const before = await loadModelDir(join(run, 'best'));
    const after = await loadModelDir(out);
    expect(after.hf.encoder.numHiddenLayers).toBe(2);
    expect(after.params.get('encoder.layer.1.attention.self.query.weight')?.data).toEqual(before.params.get('encoder.layer.2.attention.self.query.weight')?.data);
    expect(after.params.get('embeddings.word_embeddings.weight')?.data).toEqual(before.params.get('embeddings.word_embeddings.weight')?.data);
    expect([...after.params.keys()].filter((k) => k.startsWith('heads.')).sort()).toEqual([...before.params.keys()].filter((k) => k.startsWith('heads.')).sort());
    expect(after.meta.thresholds).toEqual(before.meta.thresholds);
    expect(after.meta.info['compression']).toEqual([{ command: 'prune layers', from: join(run, 'best'), kept: [0, 2] }]);
    expect(report.parametersAfter).toBeLessThan(report.parametersBefore);
  });

  it('leaves out the input ranges a QAT run recorded: the pruned encoder\'s activations are not those they describe', async () => {
    const qat = join(data.dir, 'qat-model');
    mkdirSync(qat);
    for (const f of readdirSync(join(run, 'best'))) writeFileSync(join(qat, f), readFileSync(join(run, 'best', f)));
    const meta = JSON.parse(readFileSync(join(qat, 'xlmt.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(qat, 'xlmt.json'), JSON.stringify({ ...meta, quantization: { method: 'qat', activations: 'ema', wordEmbeddings: false, inputRanges: { 'encoder.layer.0.attention.self.query': 3.5 } } }));
    expect((await loadModelDir(qat)).meta.quantization).toBeDefined();
    const out = join(data.dir, 'pruned-qat');
    await pruneLayers(qat, out, { keep: [0] });
    const after = await loadModelDir(out);
    expect(after.meta.quantization).toBeUndefined();
    expect(after.meta.info['compression']).toEqual([expect.objectContaining({ command: 'prune layers', droppedQuantization: expect.stringContaining('QAT input ranges') as unknown })]);
  });

  it('gives a model that exports, predicts and trains on (train --init)', async () => {
    const out = join(data.dir, 'pruned-2');
    await pruneLayers(run, out, { keepCount: 1, strategy: 'top' });
    const exported = join(data.dir, 'pruned-2-export');
    await exportModel(out, exported, { quantization: 'none', checkSample: 10, threads: 1, checkData: data.dev });
    const classifier = await OnnxClassifier.load(exported, { threads: 1 });
    const [prediction] = await classifier.classify(['the service was great']);
    expect(Object.keys(prediction?.tasks ?? {})).toEqual(expect.arrayContaining(['sentiment']));
    await classifier.release();
    const retrained = join(data.dir, 'retrained');
    await runTraining(parseTrainConfig({ train: data.train, dev: data.dev, tasks: data.tasks, init: out, out: retrained, maxLength: 16, batchSize: 8, epochs: 1, threads: 1 }, 'test'), { log: () => {} });
    expect((await loadModelDir(join(retrained, 'best'))).hf.encoder.numHiddenLayers).toBe(1);
  }, 60_000);

  it('refuses layers the model lacks, a repeated layer and an --out holding other files, writing nothing', async () => {
    const out = join(data.dir, 'refused');
    await expect(pruneLayers(run, out, { keep: [0, 3] })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--keep' } });
    await expect(pruneLayers(run, out, { keep: [1, 1] })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    await expect(pruneLayers(run, out, { keep: [0] })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(out)).toEqual(['notes.txt']);
    await expect(pruneLayers(run, join(run, 'best', 'inside'), { keep: [0] })).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
  });

  it('on the command line: prints what it kept, and refuses --keep with --keep-count', () => {
    const out = join(data.dir, 'cli');
    const ok = runXlmt(['prune', 'layers', '--model', run, '--keep-count', '2', '--strategy', 'alternate', '--out', out]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/layers 0, 1 of 3; [\d,]+ parameters \(\d+\.\d% of [\d,]+\)/);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ num_hidden_layers: 2 });
    const both = runXlmt(['prune', 'layers', '--model', run, '--keep', '0', '--keep-count', '1', '--out', join(data.dir, 'cli-2')]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/BAD_OPTION: --keep: name the layers to keep with --keep or --keep-count, not both/);
    const bad = runXlmt(['prune', 'layers', '--model', run, '--keep', '0,x', '--out', join(data.dir, 'cli-3')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/BAD_OPTION: --keep: expects comma-separated integers/);
  });

  it('bench infer --model times the pruned shape beside the shape it began from', async () => {
    const out = join(data.dir, 'pruned-bench');
    await pruneLayers(run, out, { keep: [0] });
    const model = await dirModel(out);
    expect(model.shapes.map(([label, c]) => [label, c.numHiddenLayers])).toEqual([['', 3], ['after prune layers', 1]]);
    expect(model.referenceLabel).toBe(`${join(run, 'best')} (its origin)`);
    const r = await benchInfer({ ...INFER_BENCH_DEFAULTS, models: [], dirs: [out], batch: 2, seq: 8, iterations: 1, warmup: 0, threads: 1 });
    expect(r.rows.map((row) => [row.label, row.variant, row.layers])).toEqual([
      [`${join(run, 'best')} (its origin)`, 'fp32', 3], [`${join(run, 'best')} (its origin)`, 'int8', 3],
      [`${out} (after prune layers)`, 'fp32', 1], [`${out} (after prune layers)`, 'int8', 1],
    ]);
    expect(r.rows[2]?.speedupOverUnpruned).toBeGreaterThan(0);
  }, 30_000);
});

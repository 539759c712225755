// `xlmt init-student`: the student written as a model directory with how it was made in xlmt.json, trained by
// `xlmt train --init`; refusals write nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initStudent } from '../../../src/compress/distill/student-init.ts';
import { loadModelDir } from '../../../src/train/model-dir.ts';
import { readManifest } from '../../../src/util/output-kinds.ts';
import { runXlmt } from '../../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../../train/fixtures.ts';

let data: RunFixture;
let run: string;

beforeAll(async () => {
  data = await runFixture(40, 12);
  run = await trainedRun(data, { layers: 2, heads: 4 });
}, 60_000);

describe('initStudent', () => {
  it('writes a model directory that loads, recording what was copied, projected and initialized', async () => {
    const out = join(data.dir, 'student-copy');
    const report = await initStudent(run, out, { layers: 1, heads: 2 });
    expect(readManifest(out)?.command).toBe('init-student');
    const student = await loadModelDir(out);
    expect(student.hf.encoder).toMatchObject({ numHiddenLayers: 1, hiddenSize: 16 });
    const step = (student.meta.info['compression'] as Record<string, unknown>[]).at(-1);
    expect(step).toMatchObject({ command: 'init-student', from: join(run, 'best'), weights: 'teacher', layerMap: [0], shape: { layers: 1, hidden: 16, heads: [2], ffn: [32] }, projected: [], initialized: [] });
    expect(step?.['copied']).toEqual(expect.arrayContaining(['embeddings.word_embeddings', 'encoder.layer.0']));
    expect(student.meta.info['devMeanMacroF1']).toBeUndefined();
    expect(report.parametersStudent).toBeLessThan(report.parametersTeacher);
  });

  it('refuses bad shapes and an --out holding other files, writing nothing', async () => {
    const out = join(data.dir, 'student-refused');
    for (const [spec, options] of [
      [{ hidden: 8, heads: 3 }, {}],
      [{ layers: 2 }, { layerMap: [0, 2] }],
      [{ layers: 2 }, { layerMap: [1] }],
      [{ layers: 3 }, {}],
    ] as const) {
      await expect(initStudent(run, out, spec, options)).rejects.toMatchObject({ code: 'BAD_OPTION' });
      expect(existsSync(out)).toBe(false);
    }
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    await expect(initStudent(run, out, { layers: 1 })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(out)).toEqual(['notes.txt']);
    await expect(initStudent(run, join(run, 'best', 'inside'), { layers: 1 })).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    await expect(initStudent(join(data.dir, 'nothing'), join(data.dir, 'student-none'), { layers: 1 })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', where: { field: '--teacher' } });
  });
});

describe('xlmt init-student (command line)', () => {
  it('makes a narrower student by SVD that xlmt train --init trains', () => {
    const out = join(data.dir, 'student-svd');
    const made = runXlmt(['init-student', '--teacher', run, '--hidden', '8', '--out', out]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/wrote .*student-svd: 2 layers, hidden 8, heads 2, FFN 16; [\d,]+ parameters/);
    expect(made.stdout).toMatch(/projected by truncated SVD to rank 8 \(energy kept: word_embeddings \d+\.\d%/);
    expect(made.stdout).toMatch(/initialized \(seed 42\): .*encoder\.layer\.0/);
    expect(made.stdout).toMatch(/train it with: xlmt train --init .*student-svd --pooling cls --head-style linear/);
    const meta = JSON.parse(readFileSync(join(out, 'xlmt.json'), 'utf8')) as { info: { compression: { svd: { rank: number } }[] } };
    expect(meta.info.compression.at(-1)?.svd.rank).toBe(8);

    const trained = join(data.dir, 'student-svd-train');
    const train = runXlmt([
      'train', '--init', out, '--train', data.train, '--dev', data.dev, '--tasks', data.tasks, '--out', trained,
      '--max-length', '16', '--batch-size', '8', '--epochs', '1', '--threads', '1', '--quiet',
    ]);
    expect(train.status, train.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(trained, 'best', 'config.json'), 'utf8'))).toMatchObject({ hidden_size: 8, num_hidden_layers: 2 });
    const best = JSON.parse(readFileSync(join(trained, 'best', 'xlmt.json'), 'utf8')) as { info: { devMeanMacroF1?: number } };
    expect(best.info.devMeanMacroF1).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('makes a narrower student by selection (--weights select) that xlmt train --init trains', () => {
    const out = join(data.dir, 'student-select');
    const made = runXlmt(['init-student', '--teacher', run, '--hidden', '8', '--weights', 'select', '--out', out]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/wrote .*student-select: 2 layers, hidden 8, heads 2, FFN 16; [\d,]+ parameters/);
    expect(made.stdout).toMatch(/hidden coordinates evenly spaced, 8 of 16/);
    expect(made.stdout).toMatch(/^initialized \(seed 42\): nothing$/m);
    const trained = join(data.dir, 'student-select-train');
    const train = runXlmt([
      'train', '--init', out, '--train', data.train, '--dev', data.dev, '--tasks', data.tasks, '--out', trained,
      '--max-length', '16', '--batch-size', '8', '--epochs', '1', '--threads', '1', '--quiet',
    ]);
    expect(train.status, train.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(trained, 'best', 'config.json'), 'utf8'))).toMatchObject({ hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2 });
  }, 120_000);

  it('refuses no shape at all, a bad --layer-map and heads not dividing the hidden size, naming the flag', () => {
    const none = runXlmt(['init-student', '--teacher', run, '--out', join(data.dir, 'cli-none')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/MISSING_OPTION: --layers: no student shape given/);
    const map = runXlmt(['init-student', '--teacher', run, '--layers', '2', '--layer-map', '0,5', '--out', join(data.dir, 'cli-map')]);
    expect(map.status).toBe(2);
    expect(map.stderr).toMatch(/BAD_OPTION: --layer-map: the teacher has no layer 5/);
    const heads = runXlmt(['init-student', '--teacher', run, '--hidden', '8', '--heads', '3', '--out', join(data.dir, 'cli-heads')]);
    expect(heads.status).toBe(2);
    expect(heads.stderr).toMatch(/BAD_OPTION: --heads: 3 attention heads do not divide the hidden size 8/);
    for (const name of ['cli-none', 'cli-map', 'cli-heads']) expect(existsSync(join(data.dir, name))).toBe(false);
  }, 60_000);
});

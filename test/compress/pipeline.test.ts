// xlmt compress: recipes refused naming the step and field; a three-step recipe on a tiny teacher writes a model per
// step and a report line each; killed inside its training step, it resumes to the outputs of an unbroken run; a
// training's checkpoint is slimmed to its progress once its step is recorded, unless --keep-checkpoints.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../src/baseline/features.ts';
import { trainBaseline } from '../../src/baseline/train.ts';
import { loadRecipe, parseRecipe, PRESET_RECIPES } from '../../src/compress/pipeline/recipe.ts';
import { type CompressEvents, type CompressOptions, runCompression } from '../../src/compress/pipeline/run.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let teacher: string;

const RECIPE = {
  steps: [
    { step: 'prune-layers', keepCount: 1 },
    { step: 'train', name: 'retrain', teacher: true, settings: { epochs: 2, batchSize: 8, lr: 1e-3, groupWindow: 0, checkpointEvery: 2, patience: 0 } },
    { step: 'export', int8: true },
  ],
};

function options(out: string): CompressOptions {
  return {
    teacher, train: data.train, dev: data.dev, tasks: data.tasks, recipe: parseRecipe(RECIPE, 'test'), out: join(data.dir, out), threads: 1,
    speed: { batch: 4, seq: 16, iterations: 1, threads: 1 },
  };
}

function events(stopAt?: number): CompressEvents & { lines: string[] } {
  const lines: string[] = [];
  let steps = 0;
  return {
    lines,
    log: (l) => lines.push(l),
    onStep: () => {
      steps++;
      if (steps === stopAt) throw new Error('killed');
    },
  };
}

beforeAll(async () => {
  data = await runFixture(60, 30);
  teacher = await trainedRun(data, { layers: 2, epochs: 3, lr: 3e-3 });
}, 120_000);

describe('recipes', () => {
  it('parses every preset, JSON and YAML files', () => {
    for (const name of PRESET_RECIPES) expect(loadRecipe({ preset: name }).steps.length, name).toBeGreaterThan(0);
    const yaml = join(data.dir, 'recipe.yaml');
    writeFileSync(yaml, 'steps:\n  - step: prune-layers\n    keepCount: 1\n  - step: export\n');
    expect(loadRecipe({ file: yaml }).steps.map((s) => s.step)).toEqual(['prune-layers', 'export']);
  });

  it('refuses a bad recipe naming the step and the field', () => {
    const refused = (recipe: unknown, field: string, message: RegExp): void => {
      let error: unknown;
      try {
        parseRecipe(recipe, 'r.json');
      } catch (e) {
        error = e;
      }
      expect(error, field).toMatchObject({ code: 'CONFIG_INVALID', where: { file: 'r.json', field } });
      expect((error as { problem: string }).problem, field).toMatch(message);
    };
    refused({ steps: [{ step: 'prune-layers', keepCount: 0 }] }, 'steps[0].keepCount', /^step 1 \(prune-layers\)/);
    refused({ steps: [{ step: 'prune-layers' }] }, 'steps[0]', /one of keep, keepCount, keepFraction/);
    refused({ steps: [{ step: 'prune', keepCount: 1 }] }, 'steps[0].step', /^step 1/);
    refused({ steps: [{ step: 'train', name: 'a', settings: {} }, { step: 'prune-heads-ffn', name: 'b', heads: 1, speed: 2 }] }, 'steps[1]', /^step 2 \(b\)/);
    refused({ steps: [{ step: 'prune-hidden', keep: 8, keepFraction: 0.5 }] }, 'steps[0]', /one of keep, keepFraction/);
    refused({ steps: [{ step: 'prune-hidden', keep: 8, method: 'magnitude' }] }, 'steps[0].method', /^step 1 \(prune-hidden\)/);
    refused({ steps: [{ step: 'export' }, { step: 'trim-vocab' }] }, 'steps[0]', /an export is the last step/);
    refused({ steps: [{ step: 'init-student', layers: 1, weights: 'svd' }] }, 'steps[0].weights', /^step 1 \(init-student\)/);
    expect(parseRecipe({ steps: [{ step: 'init-student', layers: 1, hidden: 8, weights: 'select' }] }, 'r.json').steps[0]).toMatchObject({ weights: 'select' });
    refused({ steps: [{ step: 'trim-vocab' }, { step: 'trim-vocab' }] }, 'steps', /two steps are named trim-vocab/);
    expect(() => loadRecipe({ preset: 'paper-l3' })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--preset' } }) as Error);
  });
});

describe('a compression', () => {
  it('writes a model per step with a report line each, and resumes after a kill inside a step to an unbroken run\'s outputs', async () => {
    const unbroken = options('unbroken');
    const log = events();
    const result = await runCompression(unbroken, log);
    expect(result.steps.map((s) => s.name)).toEqual(['01-prune-layers', '02-retrain', '03-export']);
    // The train step's teacher went through the compression's shared cache: each text computed once, in the first
    // of the two epochs, and read back for the rest.
    const cacheLine = log.lines.find((l) => l.startsWith('teacher cache:')) ?? '';
    const [, read, computed] = (new RegExp(`^teacher cache: (\\d+) rows read from ${join(unbroken.out, 'teacher-cache')}/teacher-[0-9a-f]{16}\\.safetensors, (\\d+) computed`).exec(cacheLine) ?? []).map(Number);
    expect(computed, cacheLine).toBeGreaterThan(0);
    expect(read, cacheLine).toBeGreaterThanOrEqual(computed as number);
    expect(result.teacher.degradation).toBe(0);
    for (const s of result.steps) {
      expect(existsSync(join(unbroken.out, 'reports', `${s.name}.md`)), s.name).toBe(true);
      expect(s.textsPerSec, s.name).toBeGreaterThan(0);
      expect(Number.isFinite(s.degradation), s.name).toBe(true);
    }
    // One layer of two: the pruned model is smaller, and its speedup is measured against the teacher's.
    expect(result.steps[0]?.bytes).toBeLessThan(result.teacher.bytes);
    expect(result.steps[0]?.speedup).not.toBeNull();
    // The training's checkpoint was slimmed to its progress once its step was recorded; its best model stayed.
    expect(readdirSync(join(unbroken.out, '02-retrain', 'checkpoints', 'last')).filter((f) => !f.startsWith('.')).sort()).toEqual(['progress.json']);
    expect(log.lines.filter((l) => /^02-retrain: removed the weights and optimizer state of the checkpoints of 1 finished training \([\d.]+ [MG]B\)/.test(l))).toHaveLength(1);
    const report = readFileSync(join(unbroken.out, 'report.md'), 'utf8');
    for (const name of ['teacher', '01-prune-layers', '02-retrain', '03-export']) expect(report).toContain(`| ${name} |`);

    const killed = options('killed');
    await expect(runCompression(killed, events(3))).rejects.toThrow('killed');
    const state = JSON.parse(readFileSync(join(killed.out, 'compress.json'), 'utf8')) as { steps: { name: string }[] };
    expect(state.steps.map((s) => s.name)).toEqual(['01-prune-layers']);
    const resumed = events();
    await runCompression(killed, resumed);
    expect(resumed.lines.some((l) => l.startsWith(`resuming ${join(killed.out, '02-retrain')}`))).toBe(true);
    expect(readFileSync(join(killed.out, '02-retrain', 'best', 'model.safetensors'))).toEqual(readFileSync(join(unbroken.out, '02-retrain', 'best', 'model.safetensors')));
    expect(readFileSync(join(killed.out, '03-export', 'onnx', 'model.onnx'))).toEqual(readFileSync(join(unbroken.out, '03-export', 'onnx', 'model.onnx')));
    expect(readdirSync(join(killed.out, '02-retrain', 'checkpoints', 'last')).filter((f) => !f.startsWith('.')).sort()).toEqual(['progress.json']);

    const other = { ...killed, recipe: parseRecipe({ steps: [{ step: 'prune-layers', keepCount: 2 }] }, 'test') };
    await expect(runCompression(other, events())).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED', where: { file: killed.out } });
  }, 180_000);

  it('narrows the width: heads pruned, then the hidden size to a fraction, then exported', async () => {
    const recipe = parseRecipe({
      steps: [{ step: 'prune-heads-ffn', heads: 1, even: true, iterations: 1, samples: 20 }, { step: 'prune-hidden', keepFraction: 0.5, samples: 30 }, { step: 'export', int8: false }],
    }, 'test');
    const result = await runCompression({ ...options('narrow'), recipe }, events());
    expect(result.steps.map((s) => s.name)).toEqual(['01-prune-heads-ffn', '02-prune-hidden', '03-export']);
    const config = JSON.parse(readFileSync(join(data.dir, 'narrow', '02-prune-hidden', 'config.json'), 'utf8')) as { hidden_size: number; num_attention_heads: number };
    expect([config.hidden_size, config.num_attention_heads]).toEqual([8, 1]);
    expect(result.steps[1]?.bytes).toBeLessThan(result.steps[0]?.bytes as number);
  }, 120_000);

  it('adds online teachers beside the pipeline\'s, checked before any step, part of the settings', async () => {
    const baseline = join(data.dir, 'baseline');
    await trainBaseline({ train: data.train, dev: data.dev, tasks: data.tasks, out: baseline, settings: { features: { ...DEFAULT_FEATURES, buckets: 2 ** 12 }, fit: { c: 10, iterations: 50 } } });
    const recipe = parseRecipe({ steps: [RECIPE.steps[0], { ...RECIPE.steps[1], settings: { ...RECIPE.steps[1]?.settings, epochs: 1 } }] }, 'test');
    const o = { ...options('more-teachers'), recipe, teacherModels: [`topics=${baseline}`] };
    const log = events();
    await runCompression(o, log);
    expect(log.lines).toContain(`teachers: sentiment ← ${teacher}; topics ← ${teacher} + ${baseline} (mean); Eq. 2 with F = 4, α = 1`);
    await expect(runCompression({ ...o, teacherModels: [] }, events())).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED' });
    for (const [value, code] of [['topics=', 'BAD_OPTION'], [`topics=${join(data.dir, 'nowhere')}`, 'FILE_NOT_FOUND']] as const) {
      const out = join(data.dir, `never-${code}`);
      await expect(runCompression({ ...options('x'), out, teacherModels: [value] }, events())).rejects.toMatchObject({ code });
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);

  it('runs a preset from the command line and refuses --recipe with --preset', () => {
    const out = join(data.dir, 'cli');
    const run = runXlmt(['compress', '--teacher', teacher, '--train', data.train, '--dev', data.dev, '--tasks', data.tasks, '--preset', 'small', '--out', out, '--threads', '1', '--speed-iterations', '0', '--quiet', '--keep-checkpoints']);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(out, '02-retrain', 'checkpoints', 'last'))).toContain('params.safetensors'); // --keep-checkpoints
    expect(run.stdout).toMatch(/^teacher: [\d.]+ MB; dev mean macro-F1 [\d.]+ \(/m);
    expect(run.stdout).toMatch(/^03-export: [\d.]+ MB; dev mean macro-F1 [\d.]+ .*% below the teacher$/m);
    const both = runXlmt(['compress', '--teacher', teacher, '--train', data.train, '--dev', data.dev, '--preset', 'small', '--recipe', 'x.json', '--out', join(data.dir, 'never')]);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('--recipe');
    expect(existsSync(join(data.dir, 'never'))).toBe(false);
    const badTeacher = runXlmt(['compress', '--teacher', teacher, '--teacher-model', 'topics=', '--train', data.train, '--dev', data.dev, '--preset', 'small', '--out', join(data.dir, 'never')]);
    expect(badTeacher.status).not.toBe(0);
    expect(badTeacher.stderr).toContain('--teacher-model');
    expect(existsSync(join(data.dir, 'never'))).toBe(false);
  }, 120_000);
});

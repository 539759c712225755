// `trainable` (--trainable): only the parameters its globs match are differentiated and updated; the others leave
// the run bit for bit as they started, in best/ and in checkpoints, with or without an online teacher.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/index.ts';
import { runOnlineDistillation } from '../../src/compress/distill/online-run.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { setupRun } from '../../src/train/setup.ts';
import { globPattern } from '../../src/train/trainable.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

let data: RunFixture;
/** The weights every run below starts from (seed 42, same shape). */
let init: Map<string, Uint8Array>;

const SHAPE = { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 };
const quiet = { log: () => {} };

function config(name: string, overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: join(data.dir, name), encoder: SHAPE,
    maxLength: 16, batchSize: 8, epochs: 3, lr: 3e-3, patience: 0, threads: 1, groupWindow: 0, ...overrides,
  }, 'test');
}

/** A saved model's tensors by the run's parameter names (best/ prefixes the encoder's with `bert.`). */
async function saved(file: string): Promise<Map<string, Uint8Array>> {
  const read = await readSafetensors(file);
  return new Map([...read.tensors].map(([name, t]) => [name.replace(/^bert\./, ''), t.bytes]));
}

const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => !!a && !!b && Buffer.compare(a, b) === 0;

/** The names whose weights differ from `init`, and those that are equal. */
function compared(model: Map<string, Uint8Array>): { changed: string[]; unchanged: string[] } {
  const names = [...model.keys()];
  return { changed: names.filter((n) => !same(model.get(n), init.get(n))), unchanged: names.filter((n) => same(model.get(n), init.get(n))) };
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  const setup = await setupRun(config('init'), () => {});
  init = new Map([...setup.params].map(([name, p]) => [name, bytes(p.data).slice()]));
}, 60_000);

describe('trainable patterns', () => {
  it('are globs over whole parameter names', () => {
    expect(globPattern('heads.*').test('heads.sentiment.weight')).toBe(true);
    expect(globPattern('heads.*').test('xheads.a')).toBe(false);
    expect(globPattern('encoder.layer.1.*').test('encoder.layer.11.output.dense.weight')).toBe(false);
    expect(globPattern('encoder.layer.?.*').test('encoder.layer.3.output.dense.weight')).toBe(true);
  });

  it('leave the frozen parameters without gradient outputs in the training graph', async () => {
    const all = await setupRun(config('graph-all'), () => {});
    const heads = await setupRun(config('graph-heads', { trainable: ['heads.*'] }), () => {});
    const graded = [...heads.training.gradients.keys()];
    expect(graded.length).toBeGreaterThan(0);
    expect(graded.every((n) => n.startsWith('heads.'))).toBe(true);
    expect(graded).toEqual([...all.training.gradients.keys()].filter((n) => n.startsWith('heads.')));
    expect(heads.training.graph.outputs.length).toBeLessThan(all.training.graph.outputs.length);
    expect(heads.training.graph.nodes.length).toBeLessThan(all.training.graph.nodes.length);
    expect(heads.params.size).toBe(all.params.size); // every parameter is still fed and saved
  });

  it('train only heads.*: best/ holds every parameter, the frozen ones as they started, and the loss falls', async () => {
    const losses: number[] = [];
    const out = config('heads', { trainable: ['heads.*'], epochs: 4 }).out;
    await runTraining(config('heads', { trainable: ['heads.*'], epochs: 4 }), { ...quiet, onStep: (e) => losses.push(e.loss) });
    const model = await saved(join(out, 'best', 'model.safetensors'));
    const { changed, unchanged } = compared(model);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => n.startsWith('heads.'))).toBe(true);
    expect(unchanged.some((n) => n.startsWith('encoder.'))).toBe(true);
    expect(unchanged.some((n) => n.startsWith('embeddings.'))).toBe(true);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
    // The optimizer holds moments for the trained parameters only.
    const optimizer = await readSafetensors(join(out, 'checkpoints', 'last', 'optimizer.safetensors'));
    expect(optimizer.tensors.size).toBeGreaterThan(0);
    expect([...optimizer.tensors.keys()].every((k) => k.includes('heads.'))).toBe(true);
  });

  it('refuse a pattern that matches nothing, naming it, before anything is written', async () => {
    const c = config('nothing', { trainable: ['heads.*', 'encoder.layers.9.*'] });
    await expect(runTraining(c, quiet)).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--trainable' }, received: 'encoder.layers.9.*' });
    expect(existsSync(c.out)).toBe(false);
  });

  it('come from --trainable as a comma-separated list', () => {
    const out = join(data.dir, 'cli');
    const args = ['train', '--train', data.train, '--tasks', data.tasks, '--tokenizer', data.tokenizer, '--max-length', '16', '--layers', '1', '--hidden', '16', '--heads', '2', '--ffn', '32'];
    const result = runXlmt([...args, '--out', out, '--trainable', 'heads.*, encoder.layer.7.*']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('--trainable');
    expect(result.stderr).toContain('received encoder.layer.7.*');
    expect(existsSync(out)).toBe(false);
  });

  it('resume with the same set, and refuse another', async () => {
    // A checkpoint every 5 steps: the run killed at step 12 has one to resume from.
    const frozen = { trainable: ['heads.sentiment.*', 'heads.topics.*'], checkpointEvery: 5 };
    const killed = runTraining(config('resume', frozen), { ...quiet, onStep: (e) => { if (e.step === 12) throw new Error('killed'); } });
    await expect(killed).rejects.toThrow('killed');
    await expect(runTraining(config('resume', { trainable: ['heads.*'], checkpointEvery: 5 }), quiet)).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED' });
    await expect(runTraining(config('resume', { checkpointEvery: 5 }), quiet)).rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED' });
    const lines: string[] = [];
    await runTraining(config('resume', frozen), { log: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith('resuming') && l.includes('step 10'))).toBe(true);
    const { changed } = compared(await saved(join(config('resume').out, 'best', 'model.safetensors')));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => n.startsWith('heads.'))).toBe(true);
  });

  it('work with an online teacher: logit transfer with only the top layer and the heads trainable', async () => {
    const teacher = config('teacher', { epochs: 2 });
    await runTraining(teacher, quiet);
    const c = config('stage2', { teacherModel: [teacher.out], trainable: ['heads.*', 'encoder.layer.0.*'], epochs: 2 });
    await runOnlineDistillation(c, quiet);
    const { changed, unchanged } = compared(await saved(join(c.out, 'best', 'model.safetensors')));
    expect(changed.some((n) => n.startsWith('encoder.layer.0.'))).toBe(true);
    expect(changed.some((n) => n.startsWith('heads.'))).toBe(true);
    expect(changed.every((n) => n.startsWith('heads.') || n.startsWith('encoder.layer.0.'))).toBe(true);
    expect(unchanged.some((n) => n.startsWith('embeddings.'))).toBe(true);
    // With a hidden-state term the projections train beside the matches: the optimizer holds moments for both.
    const projected = config('stage2-hidden', { teacherModel: [teacher.out], trainable: ['heads.*'], hiddenWeight: 1, epochs: 1 });
    await runOnlineDistillation(projected, quiet);
    const moments = [...(await readSafetensors(join(projected.out, 'checkpoints', 'last', 'optimizer.safetensors'))).tensors.keys()];
    expect(moments.some((k) => k.includes('distill.'))).toBe(true);
    expect(moments.some((k) => k.includes('heads.'))).toBe(true);
    expect(moments.every((k) => k.includes('distill.') || k.includes('heads.'))).toBe(true);
  });
});

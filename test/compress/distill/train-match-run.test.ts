// xlmt train --teacher-model with intermediate-layer transfer: a 1-layer student of hidden 8 learns a 2-layer
// teacher of hidden 16 through the hidden-state MSE and the attention relation KL; weights 0 train as Eq. 2
// alone; the projections train but are not saved; export teachers, several teachers and other tokenizers are
// refused before anything is written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../src/checkpoint/index.ts';
import { runOnlineDistillation } from '../../../src/compress/distill/online-run.ts';
import { exportModel } from '../../../src/export/export.ts';
import { parseTrainConfig, type TrainConfig } from '../../../src/train/config.ts';
import { runTraining, type RunEvents } from '../../../src/train/run.ts';
import { runXlmt } from '../../helpers/cli.ts';
import { runFixture, type RunFixture, wordPieceJson } from '../../train/fixtures.ts';

let data: RunFixture;
let teacher: string;

const TEACHER_SHAPE = { layers: 2, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 };
const STUDENT_SHAPE = { layers: 1, hidden: 8, heads: 2, ffn: 16, maxPositions: 40 };

function config(out: string, overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out, encoder: STUDENT_SHAPE,
    maxLength: 16, batchSize: 8, epochs: 2, lr: 3e-3, patience: 0, threads: 1, groupWindow: 0,
    ...overrides,
  }, 'test');
}

const student = (name: string, overrides: Record<string, unknown> = {}): TrainConfig => config(join(data.dir, 'students', name), { teacherModel: teacher, ...overrides });

function recorder(): { events: RunEvents; lines: string[]; losses: number[] } {
  const lines: string[] = [];
  const losses: number[] = [];
  return { events: { log: (line) => lines.push(line), onStep: (e) => losses.push(e.loss) }, lines, losses };
}

/** The metrics.jsonl training lines of a run. */
function trainLines(out: string): Record<string, number>[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.type === 'train') as Record<string, number>[];
}

async function tensorNames(file: string): Promise<string[]> {
  return [...(await readSafetensors(file)).tensors.keys()];
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  teacher = join(data.dir, 'teacher');
  await runTraining(config(teacher, { encoder: TEACHER_SHAPE, epochs: 4 }), { log: () => {} });
}, 120_000);

describe('intermediate-layer transfer', () => {
  it('trains with both terms: finite losses, a falling hidden-state MSE, and no projection in best/', async () => {
    const run = student('both', { epochs: 3, hiddenWeight: 1, relationWeight: 1, checkpointEvery: 5 });
    const taught = recorder();
    await runOnlineDistillation(run, taught.events);
    expect(taught.losses.length).toBeGreaterThan(0);
    expect(taught.losses.every(Number.isFinite)).toBe(true);
    // The default mapping: the student's one layer learns the teacher's last; relation heads: the teacher's 2.
    expect(taught.lines).toContain('intermediate layers (student:teacher): hidden-state MSE × 1 over 1:2; attention relation KL × 1 (2 relation heads) over 1:2');
    const lines = trainLines(run.out);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => Number.isFinite(l.hiddenMse) && Number.isFinite(l.relationKl) && (l.relationKl as number) >= 0)).toBe(true);
    const mse = lines.map((l) => l.hiddenMse as number);
    expect(mse.at(-1) as number).toBeLessThan(0.8 * (mse[0] as number));
    // The projection trains with the student (it is in the resumable state) but the model written has none.
    expect(await tensorNames(join(run.out, 'checkpoints', 'last', 'params.safetensors'))).toEqual(expect.arrayContaining(['distill.projection.1.weight', 'distill.projection.1.bias']));
    const saved = await tensorNames(join(run.out, 'best', 'model.safetensors'));
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.filter((name) => name.startsWith('distill.'))).toEqual([]);
  });

  it('adds the weighted terms to Eq. 2, and with weights 0 trains exactly as Eq. 2 alone', async () => {
    const eq2 = recorder();
    await runOnlineDistillation(student('eq2'), eq2.events);
    const zero = recorder();
    await runOnlineDistillation(student('zero', { hiddenWeight: 0, relationWeight: 0 }), zero.events);
    expect(zero.losses).toHaveLength(eq2.losses.length);
    expect(zero.losses).toEqual(eq2.losses);
    expect(zero.lines.some((l) => l.startsWith('intermediate'))).toBe(false);
    expect(trainLines(student('zero').out).some((l) => 'hiddenMse' in l)).toBe(false);
    // Weighted: the same weights and dropout at step 1, so the loss is Eq. 2's plus the weighted terms of that step.
    const weighted = recorder();
    const run = student('weighted', { hiddenWeight: 0.5, relationWeight: 2, match: '1:1', checkpointEvery: 1 });
    await runOnlineDistillation(run, weighted.events);
    const first = trainLines(run.out)[0] as Record<string, number>;
    expect(weighted.losses[0]).not.toBe(eq2.losses[0]);
    expect(weighted.losses[0]).toBeCloseTo((eq2.losses[0] as number) + 0.5 * (first.hiddenMse as number) + 2 * (first.relationKl as number), 4);
  });

  it('refuses an export teacher, several teachers and another tokenizer, writing nothing', async () => {
    const exported = join(data.dir, 'teacher-export');
    await exportModel(teacher, exported, { quantization: 'none', checkSample: 4, threads: 1, checkData: data.dev });
    const other = join(data.dir, 'other-teacher');
    await runTraining(config(other, { epochs: 1, seed: 7 }), { log: () => {} });
    const cases: { name: string; overrides: Record<string, unknown>; error: Record<string, unknown> }[] = [
      { name: 'export', overrides: { teacherModel: exported, hiddenWeight: 1 }, error: { code: 'TEACHER_NO_STATES', where: { file: exported, field: '--hidden-weight' } } },
      { name: 'several', overrides: { teacherModel: [`sentiment=${teacher}`, `topics=${other}`], relationWeight: 1 }, error: { code: 'BAD_OPTION', where: { field: '--teacher-model' } } },
      { name: 'out of range', overrides: { match: '1:3', hiddenWeight: 1 }, error: { code: 'BAD_OPTION', where: { field: '--match' } } },
      { name: 'longer texts', overrides: { maxLength: 32, hiddenWeight: 1 }, error: { code: 'BAD_OPTION', where: { field: '--max-length' } } },
    ];
    for (const c of cases) {
      const refused = student(`refused-${c.name.replaceAll(' ', '-')}`, c.overrides);
      await expect(runOnlineDistillation(refused, recorder().events), c.name).rejects.toMatchObject(c.error);
      expect(existsSync(refused.out), c.name).toBe(false);
    }
    // The same teacher twice is one teacher.
    const twice = student('same-teacher-twice', { teacherModel: [`sentiment=${teacher}`, `topics=${teacher}`], hiddenWeight: 1, epochs: 1 });
    const once = recorder();
    await runOnlineDistillation(twice, once.events);
    expect(once.losses.length).toBeGreaterThan(0);
    expect(once.lines).toContain('intermediate layers (student:teacher): hidden-state MSE × 1 over 1:2');
  });

  it('refuses a teacher with another tokenizer', async () => {
    // The fixture's words, fewer [unused] slots: the same ids for the fixture's texts, but another tokenizer.json.
    const otherTokenizer = join(data.dir, 'tokenizer-110.json');
    writeFileSync(otherTokenizer, wordPieceJson(110));
    const foreign = join(data.dir, 'foreign-teacher');
    await runTraining(config(foreign, { tokenizer: otherTokenizer, epochs: 1 }), { log: () => {} });
    const refused = student('refused-tokenizer', { teacherModel: foreign, hiddenWeight: 1 });
    await expect(runOnlineDistillation(refused, recorder().events)).rejects.toMatchObject({ code: 'TOKENIZER_MISMATCH', where: { file: foreign } });
    expect(existsSync(refused.out)).toBe(false);
  });
});

describe('resuming a run with intermediate-layer transfer', () => {
  it('refuses other intermediate settings, and resumes to an unbroken run\'s weights, projections included', async () => {
    const settings = { hiddenWeight: 1, relationWeight: 0.5, checkpointEvery: 4 };
    const unbroken = student('resume-unbroken', settings);
    await runOnlineDistillation(unbroken, recorder().events);
    const killed = student('resume-killed', settings);
    const stopAt5: RunEvents = { log: () => {}, onStep: (e) => { if (e.step === 5) throw new Error('killed'); } };
    await expect(runOnlineDistillation(killed, stopAt5)).rejects.toThrow('killed');
    const refused = { code: 'RUN_SETTINGS_CHANGED', where: { file: killed.out } };
    for (const changed of [{ hiddenWeight: 2 }, { relationWeight: 0 }, { match: '1:1' }, { relationHeads: 1 }]) {
      await expect(runOnlineDistillation({ ...killed, ...changed }, recorder().events), JSON.stringify(changed)).rejects.toMatchObject(refused);
    }
    await runOnlineDistillation(killed, recorder().events);
    const last = async (out: string): Promise<Map<string, Uint8Array>> => new Map([...(await readSafetensors(join(out, 'checkpoints', 'last', 'params.safetensors'))).tensors].map(([name, t]) => [name, t.bytes]));
    const resumed = await last(killed.out);
    expect(resumed.has('distill.projection.1.weight')).toBe(true);
    expect(resumed).toEqual(await last(unbroken.out));
  });
});

describe('xlmt train --match (command line)', () => {
  it('takes the flags and refuses a malformed --match naming it, writing nothing', () => {
    const out = join(data.dir, 'students', 'cli-bad-match');
    const result = runXlmt([
      'train', '--train', data.train, '--tasks', data.tasks, '--tokenizer', data.tokenizer, '--out', out, '--layers', '1', '--hidden', '8', '--heads', '2', '--ffn', '16',
      '--max-length', '16', '--epochs', '1', '--threads', '1', '--quiet', '--teacher-model', teacher, '--hidden-weight', '1', '--relation-weight', '1', '--relation-heads', '2', '--match', '1-2',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('--match');
    expect(result.stderr).toContain('BAD_OPTION');
    expect(existsSync(out)).toBe(false);
  });
});

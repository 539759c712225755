// xlmt distill: XtremeDistil's stages on the tiny fixture, from a two-layer teacher into a narrower one-layer student.
// Each stage trains what it should and no more, reports, rolls back when it does worse, and resumes after a kill to
// the weights of an unbroken run; settings that cannot work are refused before anything is written.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../src/checkpoint/index.ts';
import { type DistillConfig, parseDistillConfig } from '../../../src/compress/distill/stages/config.ts';
import { planStages } from '../../../src/compress/distill/stages/plan.ts';
import { type DistillEvents, runDistillation } from '../../../src/compress/distill/stages/run.ts';
import { initStudent } from '../../../src/compress/distill/student-init.ts';
import { parseTrainConfig } from '../../../src/train/config.ts';
import { runTraining } from '../../../src/train/run.ts';
import { runXlmt } from '../../helpers/cli.ts';
import { runFixture, type RunFixture } from '../../train/fixtures.ts';

let data: RunFixture;
let teacher: string;
let student: string;
let transfer: string;

const TRAINING = { maxLength: 16, batchSize: 8, lr: 3e-3, threads: 1, groupWindow: 0 };

function distillConfig(out: string, overrides: Record<string, unknown> = {}): DistillConfig {
  return parseDistillConfig({
    teacherModel: teacher, student, train: data.train, dev: data.dev, tasks: data.tasks, transfer, out: join(data.dir, out),
    common: { ...TRAINING, epochs: 2, patience: 0 },
    ...overrides,
  }, 'test');
}

const quiet = (stopAtStep?: { stage: string; step: number }): DistillEvents & { lines: string[] } => {
  const lines: string[] = [];
  let stage = '';
  return {
    lines,
    log: (line) => lines.push(line),
    onStage: (s) => {
      stage = s.name;
    },
    onStep: (e) => {
      if (stopAtStep && stage === stopAtStep.stage && e.step === stopAtStep.step) throw new Error('killed');
    },
  };
};

async function tensors(dir: string): Promise<Map<string, Uint8Array>> {
  const file = await readSafetensors(join(dir, 'model.safetensors'));
  return new Map([...file.tensors].map(([name, t]) => [name, t.bytes]));
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  teacher = join(data.dir, 'teacher');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: teacher,
    encoder: { layers: 2, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 }, ...TRAINING, epochs: 8, patience: 0,
  }, 'test'), { log: () => {} });
  student = join(data.dir, 'student');
  await initStudent(teacher, student, { layers: 1, hidden: 8, heads: 2, ffn: 16 });
  transfer = join(data.dir, 'transfer.txt');
  const texts = readFileSync(data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  writeFileSync(transfer, `${texts.join('\n')}\n`);
}, 180_000);

describe('the stages', () => {
  it('plans what each stage trains, gradual unfreezing from the top in groups', () => {
    const names = (layers: number, group: number): string[][] => planStages(['logits', 'unfreeze'], layers, 'linear', group).map((s) => [s.name, ...(s.trainable ?? ['all'])]);
    expect(names(4, 2)).toEqual([
      ['logits', 'heads.*', 'encoder.layer.3.*'],
      ['unfreeze-1', 'heads.*', 'encoder.layer.1.*', 'encoder.layer.2.*', 'encoder.layer.3.*'],
      ['unfreeze-2', 'heads.*', 'encoder.layer.0.*', 'encoder.layer.1.*', 'encoder.layer.2.*', 'encoder.layer.3.*', 'embeddings.*'],
    ]);
    expect(names(1, 2)).toEqual([['logits', 'heads.*', 'encoder.layer.0.*'], ['unfreeze-1', 'heads.*', 'encoder.layer.0.*', 'embeddings.*']]);
    expect(planStages(['finetune', 'logits'], 2, 'bert', 1).map((s) => [s.name, s.trainable])).toEqual([['finetune', undefined], ['logits', ['heads.*', 'pooler.*', 'encoder.layer.1.*']]]);
  });

  it('runs all four, each training only its part, with a report per stage and the final model in best/', async () => {
    const config = distillConfig('all');
    const events = quiet();
    const result = await runDistillation(config, 'test', events);
    expect(result.stages.map((s) => s.name)).toEqual(['representation', 'logits', 'unfreeze-1', 'finetune']);
    for (const s of result.stages) expect(existsSync(join(config.out, 'reports', `${s.name}.md`)), s.name).toBe(true);
    expect(readdirSync(join(config.out, 'reports')).sort()).toEqual(['finetune.md', 'logits.md', 'representation.md', 'unfreeze-1.md']);

    const at = async (stage: string): Promise<Map<string, Uint8Array>> => tensors(join(config.out, stage, 'best'));
    const [initial, representation, logits, unfreeze] = [await tensors(student), await at('representation'), await at('logits'), await at('unfreeze-1')];
    // Saved under transformers' names (bert.encoder.…), trained under the graph's (encoder.…).
    const changed = (a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): string[] =>
      [...a.keys()].filter((k) => !Buffer.from(a.get(k) as Uint8Array).equals(Buffer.from(b.get(k) as Uint8Array))).map((k) => k.replace(/^bert\./, ''));
    // Representation: the encoder learns, the heads get no gradient.
    expect(changed(initial, representation).some((k) => k.startsWith('encoder.'))).toBe(true);
    expect(changed(initial, representation).some((k) => k.startsWith('heads.'))).toBe(false);
    // Logits: the heads and the top (only) layer; the embeddings stay.
    expect(changed(representation, logits).every((k) => k.startsWith('heads.') || k.startsWith('encoder.layer.0.'))).toBe(true);
    expect(changed(representation, logits).some((k) => k.startsWith('heads.'))).toBe(true);
    // The last sub-stage of unfreezing adds the embeddings.
    expect(changed(logits, unfreeze).some((k) => k.startsWith('embeddings.'))).toBe(true);

    const final = result.stages.filter((s) => s.kept).at(-1);
    expect(await tensors(result.model)).toEqual(await tensors(final?.model as string));
    // The logit stages share one cache of the teacher's logits: over all three, the teacher ran at most once per
    // distinct text (160: the training texts and the transfer texts), while the stages read 800 rows.
    expect(readdirSync(join(config.out, 'teacher-cache'))).toHaveLength(1);
    const counts = events.lines.flatMap((l) => {
      const m = /^teacher cache: (\d+) rows read from .*, (\d+) computed/.exec(l);
      return m ? [{ read: Number(m[1]), computed: Number(m[2]) }] : [];
    });
    expect(counts).toHaveLength(3);
    const computed = counts.reduce((s, c) => s + c.computed, 0);
    expect(computed).toBeGreaterThan(100);
    expect(computed).toBeLessThanOrEqual(160);
    expect(counts.reduce((s, c) => s + c.read, 0)).toBeGreaterThan(2 * computed);
    const summary = readFileSync(join(config.out, 'report.md'), 'utf8');
    for (const s of result.stages) expect(summary).toContain(`| ${s.name} | ${s.trains} |`);
    // The student learns both tasks from the stages (the teacher knows them; macro-F1 0.5 is chance here).
    expect(result.stages.at(-1)?.devMeanMacroF1).toBeGreaterThan(0.7);
    const evaluated = runXlmt(['eval', '--model', config.out, '--data', data.dev, '--threads', '1']);
    expect(evaluated.status, evaluated.stderr).toBe(0);
  }, 180_000);

  it('rolls a stage that does worse back: the next starts from the model before it, and best/ is that model', async () => {
    // Fine-tuning first, then a logit stage whose learning rate wrecks the model.
    const config = distillConfig('rollback', { stages: ['finetune', 'logits'], finetune: { epochs: 10 }, logits: { lr: 5, epochs: 1 } });
    const result = await runDistillation(config, 'test', quiet());
    const [finetune, logits] = result.stages;
    expect(finetune?.kept).toBe(true);
    expect(logits?.kept).toBe(false);
    expect(logits?.devMeanMacroF1).toBeLessThan(finetune?.devMeanMacroF1 as number);
    expect(logits?.rolledBackTo).toBe(finetune?.model);
    expect(await tensors(result.model)).toEqual(await tensors(finetune?.model as string));
    expect(readFileSync(join(config.out, 'report.md'), 'utf8')).toContain(`rolled back to ${finetune?.model}`);
  }, 120_000);
});

describe('resuming', () => {
  it('a distillation killed inside a stage ends with the weights of an unbroken one, and refuses other settings', async () => {
    const stages = { stages: ['logits', 'finetune'], common: { ...TRAINING, epochs: 2, patience: 0, checkpointEvery: 5 } };
    const unbroken = distillConfig('unbroken', { ...stages, keepCheckpoints: true });
    await runDistillation(unbroken, 'test', quiet());
    const killed = distillConfig('killed', stages);
    await expect(runDistillation(killed, 'test', quiet({ stage: 'finetune', step: 7 }))).rejects.toThrow('killed');
    const state = JSON.parse(readFileSync(join(killed.out, 'distill.json'), 'utf8')) as { stages: { name: string }[] };
    expect(state.stages.map((s) => s.name)).toEqual(['logits']);

    await expect(runDistillation(distillConfig('killed', { ...stages, common: { ...stages.common, epochs: 3 } }), 'test', quiet()))
      .rejects.toMatchObject({ code: 'RUN_SETTINGS_CHANGED', where: { file: killed.out } });
    // Threads change only speed: a resume may use others.
    const resumed = quiet();
    const result = await runDistillation(distillConfig('killed', { ...stages, common: { ...stages.common, threads: 2 } }), 'test', resumed);
    expect(resumed.lines.some((l) => l.startsWith(`resuming ${join(killed.out, 'finetune')}`))).toBe(true);
    expect(result.stages.map((s) => s.name)).toEqual(['logits', 'finetune']);
    expect(await tensors(result.model)).toEqual(await tensors(join(unbroken.out, 'best')));
    // Each finished stage's checkpoint slimmed to its progress once the stage was recorded (the resumed one too),
    // unless kept whole, which changes nothing else: the weights above are the same.
    const last = (out: string, stage: string): string[] => readdirSync(join(out, stage, 'checkpoints', 'last')).filter((f) => !f.startsWith('.')).sort();
    for (const stage of ['logits', 'finetune']) {
      expect(last(killed.out, stage), stage).toEqual(['progress.json']);
      expect(last(unbroken.out, stage), stage).toContain('params.safetensors');
    }
    expect(resumed.lines.filter((l) => l.startsWith('stage finetune: removed the weights and optimizer state'))).toHaveLength(1);
  }, 180_000);
});

describe('refusals, before anything is written', () => {
  it('refuses settings a stage controls, unknown ones, a representation stage it cannot run, and a missing student', async () => {
    expect(() => distillConfig('x', { logits: { trainable: ['heads.*'] } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 'test', field: 'logits.trainable' } }) as Error);
    expect(() => distillConfig('x', { common: { lerning: 1 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 'test', field: 'common.lerning' } }) as Error);
    expect(() => distillConfig('x', { stages: ['logits', 'logits'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    expect(() => parseDistillConfig({ teacherModel: teacher, train: data.train, dev: data.dev, out: 'x' }, 'the command line'))
      .toThrow(expect.objectContaining({ code: 'MISSING_OPTION', where: { field: '--student' } }) as Error);

    const two = distillConfig('two-teachers', { teacherModel: [`sentiment=${teacher}`, `topics=${student}`] });
    await expect(runDistillation(two, 'test', quiet())).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--teacher-model' } });
    expect(existsSync(two.out)).toBe(false);
    const inside = distillConfig('x', { out: join(teacher, 'distilled') });
    await expect(runDistillation(inside, 'test', quiet())).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    expect(existsSync(inside.out)).toBe(false);
  });

  it('runs from the command line, naming a bad flag', () => {
    const out = join(data.dir, 'cli');
    const args = ['distill', '--teacher-model', teacher, '--student', student, '--train', data.train, '--dev', data.dev, '--tasks', data.tasks, '--out', out,
      '--stages', 'logits,finetune', '--epochs', '1', '--max-length', '16', '--batch-size', '8', '--lr', '3e-3', '--threads', '1', '--quiet'];
    const run = runXlmt(args);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^stage logits: dev mean macro-F1 [\d.]+ \(sentiment [\d.]+, topics [\d.]+\), \d+ steps/m);
    expect(run.stdout).toContain(`${out}: 2 stages; the model is ${join(out, 'best')}`);
    const bad = runXlmt([...args.slice(0, -1), '--stages', 'logits,distil']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('stages');
  }, 120_000);
});

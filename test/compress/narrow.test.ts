// A recipe's prune-hidden step in rounds: the sizes in whole heads, the training data dealt into disjoint shares,
// and a compression that narrows a tiny teacher in three rounds, killed inside the second round's training and
// resumed to the unbroken run's weights.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hiddenSchedule, writeShards } from '../../src/compress/pipeline/narrow.ts';
import { parseRecipe } from '../../src/compress/pipeline/recipe.ts';
import { type CompressOptions, runCompression } from '../../src/compress/pipeline/run.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

let data: RunFixture;
let teacher: string;

beforeAll(async () => {
  data = await runFixture(48, 12);
  teacher = await trainedRun(data, { layers: 1, heads: 4, ffn: 24 });
}, 90_000);

describe('hiddenSchedule', () => {
  it('goes down in equal steps of whole heads to the target', () => {
    expect(hiddenSchedule(384, 192, 6, 32)).toEqual([352, 320, 288, 256, 224, 192]);
    expect(hiddenSchedule(384, 192, 3, 32)).toEqual([320, 256, 192]);
    expect(hiddenSchedule(384, 192, 4, 32)).toEqual([320, 288, 224, 192]);
    expect(hiddenSchedule(384, 192, 1, 32)).toEqual([192]);
  });

  it('refuses more rounds than heads to remove, and a target off the heads', () => {
    expect(() => hiddenSchedule(384, 320, 3, 32)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: 'rounds' }, expected: 'at most 2 rounds' }));
    expect(() => hiddenSchedule(384, 200, 2, 32)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: 'keep' } }));
  });
});

describe('writeShards', () => {
  it('deals every row into exactly one share, as JSONL, from JSONL or CSV, and keeps shares already written', async () => {
    const dir = join(data.dir, 'shards');
    const files = await writeShards(data.train, data.tasks, dir, 3, 42);
    const ids = files.map((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id));
    const source = readFileSync(data.train, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.flat().sort()).toEqual([...source].sort());
    expect(ids.map((s) => s.length)).toEqual([16, 16, 16]);
    writeFileSync(files[0] as string, 'kept\n');
    await writeShards(data.train, data.tasks, dir, 3, 42);
    expect(readFileSync(files[0] as string, 'utf8')).toBe('kept\n');

    const csv = join(data.dir, 'train.csv');
    writeFileSync(csv, 'text,lang,sentiment\n"good, really",en,positive\nbad,en,negative\nfine,en,positive\n');
    const tasks = join(data.dir, 'csv-tasks.json');
    writeFileSync(tasks, JSON.stringify({ sentiment: { type: 'multiclass', labels: ['negative', 'positive'] } }));
    const fromCsv = await writeShards(csv, tasks, join(data.dir, 'csv-shards'), 2, 1);
    const rows = fromCsv.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as { text: string; labels: Record<string, string> });
    expect(rows.map((r) => r.text).sort()).toEqual(['bad', 'fine', 'good, really']);
    expect(rows.find((r) => r.text === 'bad')?.labels).toEqual({ sentiment: 'negative' });
  });
});

describe('prune-hidden in rounds', () => {
  const recipe = parseRecipe({
    steps: [
      { step: 'prune-heads-ffn', heads: 1, even: true, iterations: 1, samples: 20 },
      { step: 'prune-hidden', keep: 4, rounds: 3, samples: 20, retrain: { epochs: 2, batchSize: 4, lr: 1e-3, groupWindow: 0, checkpointEvery: 2, patience: 0 } },
    ],
  }, 'test');
  const options = (out: string): CompressOptions => ({ teacher, train: data.train, dev: data.dev, tasks: data.tasks, recipe, out: join(data.dir, out), threads: 1, speed: null });

  it('narrows 16 → 12 → 8 → 4, training after each cut, and resumes after a kill inside a round to the same weights', async () => {
    const unbroken = options('rounds');
    const lines: string[] = [];
    const result = await runCompression(unbroken, { log: (l) => lines.push(l) });
    const step = join(unbroken.out, '02-prune-hidden');
    expect(result.steps[1]?.model).toBe(join(step, 'round-3-hidden-4.train', 'best'));
    for (const [i, size] of [12, 8, 4].entries()) {
      const config = JSON.parse(readFileSync(join(step, `round-${i + 1}-hidden-${size}`, 'config.json'), 'utf8')) as { hidden_size: number };
      expect(config.hidden_size).toBe(size);
      const trained = JSON.parse(readFileSync(join(step, `round-${i + 1}-hidden-${size}.train`, 'config.json'), 'utf8')) as { train: string; teacherModel: string[] };
      expect(trained.train).toBe(join(step, 'shards', `shard-${i + 1}-of-3.jsonl`));
      expect(trained.teacherModel).toEqual([teacher]);
    }
    expect(lines).toContain(`round 2/3: training ${join(step, 'round-2-hidden-8')} on ${join(step, 'shards', 'shard-2-of-3.jsonl')}`);

    const killed = options('rounds-killed');
    let steps = 0;
    let inRound2 = false;
    const kill = {
      log: (l: string) => {
        if (l.startsWith('round 2/3: training')) inRound2 = true;
      },
      onStep: () => {
        if (inRound2 && ++steps === 3) throw new Error('killed');
      },
    };
    await expect(runCompression(killed, kill)).rejects.toThrow('killed');
    const killedStep = join(killed.out, '02-prune-hidden');
    expect(existsSync(join(killedStep, 'round-2-hidden-8.train', 'checkpoints'))).toBe(true);
    expect(existsSync(join(killedStep, 'round-3-hidden-4'))).toBe(false);
    await runCompression(killed, { log: () => {} });
    const weights = (root: string): Buffer => readFileSync(join(root, '02-prune-hidden', 'round-3-hidden-4.train', 'best', 'model.safetensors'));
    expect(weights(killed.out)).toEqual(weights(unbroken.out));
  }, 180_000);

  it('refuses retrain without rounds, naming the field', () => {
    expect(() => parseRecipe({ steps: [{ step: 'prune-hidden', keep: 8, retrain: { epochs: 1 } }] }, 'r.json')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 'r.json', field: 'steps[0].retrain' } }));
  });
});

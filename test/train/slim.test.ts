// A compression's finished trainings keep only their progress once their step is recorded: a training that has not
// ended keeps its whole checkpoint, best models stay, and a slimmed run still reads as ended, so the same `xlmt train`
// says so instead of starting over.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { slimFinishedCheckpoints, slimmedLine } from '../../src/train/loop/slim.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

function run(dir: string, done: boolean, bytes = 1000): void {
  const last = join(dir, 'checkpoints', 'last');
  mkdirSync(last, { recursive: true });
  const progress = { epoch: 1, batch: 0, step: 10, best: null, stale: 0, metricsLines: 2, done, fingerprint: 'f' };
  writeFileSync(join(last, 'progress.json'), JSON.stringify(progress));
  writeFileSync(join(last, 'params.safetensors'), Buffer.alloc(bytes));
  writeFileSync(join(last, 'optimizer.safetensors'), Buffer.alloc(2 * bytes));
  mkdirSync(join(dir, 'best'), { recursive: true });
  writeFileSync(join(dir, 'best', 'model.safetensors'), Buffer.alloc(10));
}

let data: RunFixture;
beforeAll(async () => {
  data = await runFixture(40, 20);
}, 60_000);

describe('slimFinishedCheckpoints', () => {
  it('slims finished runs at any depth to their progress, and leaves unfinished runs and best models whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xlmt-ckpt-'));
    run(root, true, 2000);
    run(join(root, 'round-1.train'), true, 3000);
    run(join(root, 'round-2.train'), false);
    mkdirSync(join(root, 'shards', 'checkpoints'), { recursive: true }); // a folder of that name, not a run's state
    const slimmed = await slimFinishedCheckpoints(root);
    expect([...slimmed.runs].sort()).toEqual([root, join(root, 'round-1.train')]);
    expect(slimmed.bytes).toBe(3 * 2000 + 3 * 3000);
    for (const dir of [root, join(root, 'round-1.train')]) expect(readdirSync(join(dir, 'checkpoints', 'last'))).toEqual(['progress.json']);
    expect(readdirSync(join(root, 'round-2.train', 'checkpoints', 'last')).sort()).toEqual(['optimizer.safetensors', 'params.safetensors', 'progress.json']);
    expect(existsSync(join(root, 'shards', 'checkpoints'))).toBe(true);
    for (const dir of [root, join(root, 'round-1.train'), join(root, 'round-2.train')]) expect(existsSync(join(dir, 'best', 'model.safetensors'))).toBe(true);
    expect(slimmedLine('04-hidden', slimmed)).toBe('04-hidden: removed the weights and optimizer state of the checkpoints of 2 finished trainings (0.0 MB); --keep-checkpoints keeps them');
    expect(slimmedLine('04-hidden', await slimFinishedCheckpoints(root))).toBeNull();
  });

  it('leaves a slimmed run ended: the same training again says so and changes nothing', async () => {
    const out = join(data.dir, 'slimmed');
    const config = parseTrainConfig({
      train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out,
      encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 }, maxLength: 16, batchSize: 8, epochs: 1, threads: 1,
    }, 'test');
    const first = await runTraining(config, { log: () => {} });
    expect((await slimFinishedCheckpoints(out)).runs).toEqual([out]);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const best = readFileSync(join(out, 'best', 'model.safetensors'));
    const lines: string[] = [];
    const again = await runTraining(config, { log: (l) => lines.push(l) });
    expect(again).toEqual(first);
    expect(lines.some((l) => l.includes('has finished already'))).toBe(true);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    expect(readFileSync(join(out, 'best', 'model.safetensors'))).toEqual(best);
  }, 60_000);
});

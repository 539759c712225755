// `xlmt pretrain --out` (both objectives): a new or empty directory or its own run; never a folder holding its
// corpus, a training run, or a folder of other files.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePretrainConfig, type PretrainConfig } from '../../src/pretrain/config.ts';
import { runPretraining } from '../../src/pretrain/run.ts';
import { runSkipGramPretraining } from '../../src/pretrain/skipgram-run.ts';
import { readManifest } from '../../src/util/output-kinds.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

let fixture: RunFixture;
beforeAll(async () => {
  fixture = await runFixture(40, 4);
});

function config(out: string, overrides: Record<string, unknown> = {}): PretrainConfig {
  return parsePretrainConfig({
    corpus: [fixture.train], tokenizer: fixture.tokenizer, out,
    encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 },
    maxLength: 16, batchSize: 8, steps: 2, evalLines: 0, checkpointEvery: 5, threads: 1, ...overrides,
  }, 'test');
}

const quiet = { log: () => {} };

describe('pretrain --out', () => {
  it('refuses the folder holding its corpus, a training run and a folder of other files, touching nothing', async () => {
    await expect(runPretraining(config(fixture.dir), quiet)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    const run = join(fixture.dir, 'train-run');
    mkdirSync(join(run, 'checkpoints'), { recursive: true });
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: fixture.train }));
    await expect(runPretraining(config(run), quiet)).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(readdirSync(run).sort()).toEqual(['checkpoints', 'config.json']);
    const notes = join(fixture.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    const skipgram = config(notes, { objective: 'skipgram', steps: undefined, epochs: 1 });
    await expect(runSkipGramPretraining(skipgram, quiet)).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
  });

  it('marks its run, and a skip-gram run may be written again', async () => {
    const out = join(fixture.dir, 'skipgram');
    const skipgram = config(out, { objective: 'skipgram', steps: undefined, epochs: 1 });
    await runSkipGramPretraining(skipgram, quiet);
    await runSkipGramPretraining(skipgram, quiet);
    expect(readManifest(out)?.command).toBe('pretrain');
    expect(readManifest(join(out, 'model'))?.command).toBe('pretrain');
  }, 30_000);
});

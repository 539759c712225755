// `xlmt train --out` and `xlmt import --out`: a run goes into a new or empty directory or continues its own run
// (also one begun before output manifests); never into an export, a folder of other files, or its own inputs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importClassifier } from '../../src/train/import-classifier.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { MANIFEST_FILE, readManifest } from '../../src/util/output-kinds.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

let data: RunFixture;

beforeAll(async () => {
  data = await runFixture(40, 12);
});

function config(out: string): TrainConfig {
  return parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out,
    encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 }, maxLength: 16, batchSize: 8, epochs: 1, threads: 1,
  }, 'test');
}

const quiet = { log: () => {} };

describe('train --out', () => {
  it('refuses an export directory, leaving its config.json as it was', async () => {
    const exported = join(data.dir, 'export');
    mkdirSync(join(exported, 'onnx'), { recursive: true });
    writeFileSync(join(exported, 'onnx', 'model.onnx'), 'onnx');
    writeFileSync(join(exported, 'xlmt.json'), '{}');
    writeFileSync(join(exported, 'config.json'), '{"model_type":"bert"}');
    await expect(runTraining(config(exported), quiet)).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(readFileSync(join(exported, 'config.json'), 'utf8')).toBe('{"model_type":"bert"}');
    expect(readdirSync(exported).sort()).toEqual(['config.json', 'onnx', 'xlmt.json']);
  });

  it('refuses a folder of other files, and one holding its training data', async () => {
    const notes = join(data.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(runTraining(config(notes), quiet)).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
    await expect(runTraining(config(data.dir), quiet)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
  });

  it('marks a new run, and takes up a run begun before manifests as its own', async () => {
    const run = join(data.dir, 'run');
    const c = config(run);
    await runTraining(c, quiet);
    expect(readManifest(run)?.command).toBe('train');
    expect(readManifest(join(run, 'best'))?.command).toBe('train');
    rmSync(join(run, MANIFEST_FILE)); // as an older version left it
    const again = await runTraining(c, quiet);
    expect(again.steps).toBeGreaterThan(0);
    expect(readManifest(run)?.command).toBe('train');
  }, 60_000);
});

describe('import --out', () => {
  it('refuses the checkpoint directory itself or a folder inside it, before reading it', async () => {
    const checkpoint = join(data.dir, 'checkpoint');
    mkdirSync(checkpoint);
    writeFileSync(join(checkpoint, 'config.json'), '{}');
    for (const out of [checkpoint, join(checkpoint, 'imported')]) {
      await expect(importClassifier(checkpoint, out, { task: 'sentiment', threshold: 0.5 })).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    }
    expect(readdirSync(checkpoint)).toEqual(['config.json']);
  });

  it('refuses a folder of other files', async () => {
    const notes = join(data.dir, 'import-notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(importClassifier(join(data.dir, 'checkpoint'), notes, { task: 'sentiment', threshold: 0.5 })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(existsSync(join(notes, 'todo.txt'))).toBe(true);
  });
});

// `xlmt experiment --out`: a new or empty directory or the same experiment (resumed); never a folder holding its
// data, another command's output, or a folder of other files. Refused before any data is read or run trained.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExperiment, type ExperimentSettings } from '../../src/experiment/run.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

let fixture: RunFixture;
let base: TrainConfig;

beforeAll(async () => {
  fixture = await runFixture(40, 12);
  base = parseTrainConfig({ train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, tokenizer: fixture.tokenizer, threads: 1 }, 'test');
});

const settings = (out: string): ExperimentSettings => ({ out, compare: ['multitask'], seeds: [1], minRows: 20 });
const quiet = { log: () => {} };

describe('experiment --out', () => {
  it('refuses the folder holding its data, an export and a folder of other files, touching nothing', async () => {
    await expect(runExperiment(base, settings(fixture.dir), quiet)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    const exported = join(fixture.dir, 'export');
    mkdirSync(join(exported, 'onnx'), { recursive: true });
    writeFileSync(join(exported, 'onnx', 'model.onnx'), 'onnx');
    writeFileSync(join(exported, 'xlmt.json'), '{}');
    await expect(runExperiment(base, settings(exported), quiet)).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    const notes = join(fixture.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(runExperiment(base, settings(notes), quiet)).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
    expect(readdirSync(exported).sort()).toEqual(['onnx', 'xlmt.json']);
  });
});

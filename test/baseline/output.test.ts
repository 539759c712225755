// `xlmt baseline train --out`: a new directory or an earlier baseline (replaced whole, also one written before
// output manifests); never its own data, another command's output, or a folder of other files.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../src/baseline/features.ts';
import { trainBaseline, type BaselineTrainJob } from '../../src/baseline/train.ts';
import { MANIFEST_FILE, readManifest } from '../../src/util/output-kinds.ts';
import { baselineFixture } from './fixtures.ts';

const fx = baselineFixture(60, 12);
const job = (out: string): BaselineTrainJob => ({ train: fx.train, tasks: fx.tasks, out, settings: { features: { ...DEFAULT_FEATURES, buckets: 2 ** 14 }, fit: { c: 1, iterations: 5 } } });

describe('baseline train --out', () => {
  it('replaces an earlier baseline, with or without a manifest, and keeps <out>.old', async () => {
    const out = join(fx.dir, 'model');
    mkdirSync(`${out}.old`);
    writeFileSync(join(`${out}.old`, 'mine.txt'), 'keep');
    await trainBaseline(job(out));
    expect(readManifest(out)?.command).toBe('baseline train');
    rmSync(join(out, MANIFEST_FILE)); // as an older version left it
    await trainBaseline(job(out));
    expect(readdirSync(out).sort()).toEqual([MANIFEST_FILE, 'baseline.json', 'weights.safetensors']);
    expect(existsSync(join(`${out}.old`, 'mine.txt'))).toBe(true);
  });

  it('refuses the folder holding its training data, an export and a folder of other files', async () => {
    await expect(trainBaseline(job(fx.dir))).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    const exported = join(fx.dir, 'export');
    mkdirSync(join(exported, 'onnx'), { recursive: true });
    writeFileSync(join(exported, 'onnx', 'model.onnx'), 'onnx');
    writeFileSync(join(exported, 'xlmt.json'), '{}');
    await expect(trainBaseline(job(exported))).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(readdirSync(exported).sort()).toEqual(['onnx', 'xlmt.json']);
    const notes = join(fx.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(trainBaseline(job(notes))).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
  });
});

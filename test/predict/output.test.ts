// `xlmt predict --out` and `xlmt baseline predict --out`: never the input, a symlink or hard link to it, or a
// file inside the model directory; a missing folder on the way is created.
import { linkSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictBaselineFile } from '../../src/baseline/predict-file.ts';
import { trainBaseline } from '../../src/baseline/train.ts';
import { DEFAULT_FEATURES } from '../../src/baseline/features.ts';
import { predictFile, type PredictJob } from '../../src/predict/run.ts';
import { baselineFixture } from '../baseline/fixtures.ts';
import { jsonlRows, StubClassifier, tempDir, writeFile } from './fixtures.ts';

function job(input: string, output: string, extra: Partial<PredictJob> = {}): PredictJob {
  return { model: 'stub', input, output, chunkSize: 4, ...extra };
}

describe('predict --out', () => {
  it('refuses a symlink or a hard link to --in, leaving the input whole', async () => {
    const dir = tempDir();
    const rows = jsonlRows(6);
    const input = writeFile(dir, 'rows.jsonl', rows);
    symlinkSync(input, join(dir, 'soft.jsonl'));
    linkSync(input, join(dir, 'hard.jsonl'));
    for (const out of [input, join(dir, 'soft.jsonl'), join(dir, 'hard.jsonl')]) {
      await expect(predictFile(new StubClassifier(), job(input, out))).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    }
    expect(readFileSync(input, 'utf8')).toBe(rows);
  });

  it('refuses --in as its progress file, and an output inside the model directory', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'p.jsonl.progress.json', jsonlRows(2));
    await expect(predictFile(new StubClassifier(), job(input, join(dir, 'p.jsonl'), { format: 'jsonl' }))).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    const model = join(dir, 'export');
    mkdirSync(model);
    const rows = writeFile(dir, 'rows.jsonl', jsonlRows(2));
    await expect(predictFile(new StubClassifier(), job(rows, join(model, 'config.json'), { modelDir: model }))).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
  });

  it('creates a missing folder for the output', async () => {
    const dir = tempDir();
    const input = writeFile(dir, 'rows.jsonl', jsonlRows(3));
    const out = join(dir, 'new', 'folder', 'p.jsonl');
    const summary = await predictFile(new StubClassifier(), job(input, out));
    expect(summary.rowsWritten).toBe(3);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

describe('baseline predict --out', () => {
  it('refuses a symlink or a hard link to --in, and creates a missing folder', async () => {
    const fx = baselineFixture(60, 12);
    const { model } = await trainBaseline({ train: fx.train, tasks: fx.tasks, out: join(fx.dir, 'model'), settings: { features: { ...DEFAULT_FEATURES, buckets: 2 ** 14 }, fit: { c: 1, iterations: 5 } } });
    const before = readFileSync(fx.dev, 'utf8');
    symlinkSync(fx.dev, join(fx.dir, 'soft.jsonl'));
    linkSync(fx.dev, join(fx.dir, 'hard.jsonl'));
    for (const out of [join(fx.dir, 'soft.jsonl'), join(fx.dir, 'hard.jsonl')]) {
      await expect(predictBaselineFile(model, { input: fx.dev, output: out })).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    }
    expect(readFileSync(fx.dev, 'utf8')).toBe(before);
    const out = join(fx.dir, 'new', 'p.jsonl');
    await predictBaselineFile(model, { input: fx.dev, output: out });
    expect(readFileSync(out, 'utf8').length).toBeGreaterThan(0);
  });
});

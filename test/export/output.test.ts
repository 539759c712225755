// `xlmt export --out`: never the run it exports nor anything inside or around it, never a folder of other files or
// another command's output; an earlier export is replaced whole, and siblings the user owns stay.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportModel, type ExportOptions } from '../../src/export/export.ts';
import { MANIFEST_FILE, readManifest } from '../../src/util/output-kinds.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';

const OPTIONS: ExportOptions = { quantization: 'none', checkSample: 10, threads: 1 };

let data: RunFixture;
let run: string;

beforeAll(async () => {
  data = await runFixture(40, 12);
  run = await trainedRun(data);
}, 60_000);

/** The run's own files, which no refused export may touch. */
function runEntries(): string[] {
  return readdirSync(run).sort();
}

describe('export --out', () => {
  it('refuses the run itself, a folder inside it and a folder holding it, touching nothing', async () => {
    const before = runEntries();
    expect(before).toEqual(expect.arrayContaining(['best', 'checkpoints', 'config.json', 'metrics.jsonl']));
    await expect(exportModel(run, run, OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    await expect(exportModel(run, join(run, 'export'), OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    await expect(exportModel(join(run, 'best'), run, OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    await expect(exportModel(run, data.dir, OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    expect(runEntries()).toEqual(before);
    expect(readdirSync(data.dir).filter((n) => n.includes('xlmt-'))).toEqual([]);
  });

  it('refuses the run reached through a symlink', async () => {
    const alias = join(data.dir, 'alias');
    symlinkSync(run, alias);
    const before = runEntries();
    await expect(exportModel(alias, run, OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    await expect(exportModel(run, alias, OPTIONS)).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    expect(runEntries()).toEqual(before);
  });

  it('refuses a folder of other files', async () => {
    const notes = join(data.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(exportModel(run, notes, OPTIONS)).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
  });

  it('writes a new export, replaces it on a second export, and keeps <out>.tmp and <out>.old', async () => {
    const out = join(data.dir, 'export');
    for (const sibling of [`${out}.tmp`, `${out}.old`]) {
      mkdirSync(sibling);
      writeFileSync(join(sibling, 'mine.txt'), 'keep');
    }
    await exportModel(run, out, OPTIONS);
    expect(readManifest(out)?.command).toBe('export');
    await exportModel(run, out, OPTIONS);
    expect(readdirSync(out).sort()).toEqual([MANIFEST_FILE, 'config.json', 'onnx', 'tasks.json', 'tokenizer.json', 'tokenizer_config.json', 'xlmt.json']);
    expect(readFileSync(join(`${out}.tmp`, 'mine.txt'), 'utf8')).toBe('keep');
    expect(readFileSync(join(`${out}.old`, 'mine.txt'), 'utf8')).toBe('keep');
  }, 30_000);

  it('refuses the output of another command: a training run', async () => {
    const other = join(data.dir, 'other-run');
    mkdirSync(join(other, 'checkpoints'), { recursive: true });
    writeFileSync(join(other, 'config.json'), JSON.stringify({ train: data.train }));
    await expect(exportModel(run, other, OPTIONS)).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(existsSync(join(other, 'config.json'))).toBe(true);
  });
});

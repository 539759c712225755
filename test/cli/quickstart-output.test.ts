// `xlmt quickstart --out`: refused at once when it holds unrelated files or another command's output.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quickstartCommand } from '../../src/cli/quickstart.ts';

describe('quickstart --out', () => {
  it('refuses a folder of other files and a training run before writing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlmt-quickstart-'));
    const notes = join(dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'keep');
    await expect(quickstartCommand().parseAsync(['--out', notes], { from: 'user' })).rejects.toMatchObject({ code: 'OUT_NOT_EMPTY' });
    expect(readdirSync(notes)).toEqual(['todo.txt']);
    const run = join(dir, 'run');
    mkdirSync(join(run, 'best'), { recursive: true });
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: 'train.jsonl' }));
    await expect(quickstartCommand().parseAsync(['--out', run], { from: 'user' })).rejects.toMatchObject({ code: 'OUT_OF_ANOTHER_COMMAND' });
    expect(readdirSync(run).sort()).toEqual(['best', 'config.json']);
  });
});

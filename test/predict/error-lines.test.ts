// The line `xlmt` prints for a bad flag of predict, baseline and experiment: `xlmt: BAD_OPTION: --flag: …`, the
// flag as `where.field` in --json, exit status 2. In process, through the command line's own reportError.
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { baselineCommand } from '../../src/cli/baseline.ts';
import { experimentCommand } from '../../src/cli/experiment.ts';
import { predictCommand } from '../../src/cli/predict.ts';
import { reportError } from '../../src/cli/report-error.ts';

/** What `xlmt` would print on stderr for `args`, and its exit status. */
async function report(command: Command, args: string[], json = false): Promise<{ status: number; stderr: string }> {
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    c.commands.forEach(quiet);
  };
  quiet(command);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { status: 0, stderr };
  } catch (e) {
    return { status: reportError(e, json), stderr };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('a bad flag value', () => {
  it('of xlmt predict names the flag', async () => {
    const line = await report(predictCommand(), ['--model', 'm', '--in', 'a.jsonl', '--out', 'b.jsonl', '--chunk-size', 'x']);
    expect(line.status).toBe(2);
    expect(line.stderr).toBe('xlmt: BAD_OPTION: --chunk-size: expects a positive integer, got "x"\n');
    const json = await report(predictCommand(), ['--model', 'm', '--in', 'a.jsonl', '--out', 'b.jsonl', '--chunk-size', 'x'], true);
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: 'BAD_OPTION', kind: 'usage', where: { field: '--chunk-size' } });
  });

  it('of xlmt predict names the first of two flags that disagree', async () => {
    const line = await report(predictCommand(), ['--model', 'm', '--in', 'a.jsonl', '--out', 'b.jsonl', '--text-field', 'a', '--text-column', 'b']);
    expect(line.status).toBe(2);
    expect(line.stderr).toBe('xlmt: BAD_OPTION: --text-field: --text-field and --text-column name the same field but differ (expected one of them, or both equal; received "a" and "b")\n');
  });

  it('of xlmt baseline train names the flag', async () => {
    const line = await report(baselineCommand(), ['train', '--train', 't.jsonl', '--out', 'o', '--c', '0']);
    expect(line.status).toBe(2);
    expect(line.stderr).toMatch(/^xlmt: BAD_OPTION: --c: expects a number > 0/);
  });

  it('of xlmt experiment names the flag once, with what it expected', async () => {
    const line = await report(experimentCommand(), ['--out', 'o', '--seeds', '1,1']);
    expect(line.status).toBe(2);
    expect(line.stderr).toBe('xlmt: BAD_OPTION: --seeds: Seed 1 is listed twice (expected distinct seeds; received 1,1). The same seed trains the same model twice\n');
  });
});

// util/output-dir.ts on real directories: inputs reached through symlinks and hard links, outputs recognized by
// manifest or by the markers of older versions, atomic replacement that removes nothing it did not write, and
// recovery after a crash that touches only its own leftovers.
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { XlmtError } from '../../src/errors/index.ts';
import { checkOutputDir, checkOutputFile, claimOutputDir, inputsOf, prepareOutputFile, recoverDir, writeOutputDir, type OutputSpec } from '../../src/util/output-dir.ts';
import { MANIFEST_FILE, readManifest } from '../../src/util/output-kinds.ts';

/** Above Linux's largest pid_max (2^22): no process has it. */
const DEAD_PID = 4_194_305;

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'xlmt-out-'));
});

function put(path: string, text = 'x'): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** The error's code, or 'none' when `run` returned. */
function codeOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (e) {
    if (e instanceof XlmtError) return e.code;
    throw e;
  }
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'none';
  } catch (e) {
    if (e instanceof XlmtError) return e.code;
    throw e;
  }
}

const exportSpec = (path: string, inputs: OutputSpec['inputs'] = []): OutputSpec => ({ command: 'export', path, inputs });

/** Writes `files` (name → text) as the new output. */
const writeFiles = (files: Record<string, string>) => async (dir: string): Promise<void> => {
  for (const [name, text] of Object.entries(files)) put(join(dir, name), text);
};

describe('outputs and inputs', () => {
  it('refuses an output directory that is, lies inside or contains an input', () => {
    const run = join(root, 'run');
    put(join(run, 'best', 'xlmt.json'));
    const inputs = inputsOf({ '--model': run });
    expect(codeOf(() => checkOutputDir(exportSpec(run, inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(join(run, 'export'), inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(join(run, 'a', 'b'), inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(root, inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(join(root, 'run-export'), inputs)))).toBe('none');
  });

  it('sees an input through a symlink to it or to a folder above it', () => {
    const run = join(root, 'run');
    put(join(run, 'best', 'xlmt.json'));
    symlinkSync(run, join(root, 'alias'));
    const inputs = inputsOf({ '--model': join(root, 'alias') });
    expect(codeOf(() => checkOutputDir(exportSpec(run, inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(join(run, 'export'), inputs)))).toBe('OUT_IS_INPUT');
    expect(codeOf(() => checkOutputDir(exportSpec(join(root, 'alias', 'best'), inputsOf({ '--model': run }))))).toBe('OUT_IS_INPUT');
  });

  it('names both paths and their flags', () => {
    const run = join(root, 'run');
    mkdirSync(run);
    expect(() => checkOutputDir(exportSpec(run, inputsOf({ '--model': run })))).toThrow(`--out: ${run} is ${run}, which --model reads; writing there would destroy the input`);
  });

  it('refuses an output file that is the input, a symlink or hard link to it, or lies inside an input directory', () => {
    const input = put(join(root, 'rows.jsonl'), '{"text":"a"}\n');
    symlinkSync(input, join(root, 'soft.jsonl'));
    linkSync(input, join(root, 'hard.jsonl'));
    const model = join(root, 'model');
    mkdirSync(model);
    const inputs = inputsOf({ '--in': input, '--model': model });
    for (const out of [input, join(root, 'soft.jsonl'), join(root, 'hard.jsonl'), join(model, 'config.json')]) {
      expect(codeOf(() => checkOutputFile({ path: out, inputs }))).toBe('OUT_IS_INPUT');
    }
    expect(codeOf(() => checkOutputFile({ path: join(root, 'predictions.jsonl'), inputs }))).toBe('none');
    expect(codeOf(() => checkOutputFile({ path: root, inputs: [] }))).toBe('BAD_OPTION');
    expect(readFileSync(input, 'utf8')).toBe('{"text":"a"}\n');
  });

  it('creates the missing folders above an output file', async () => {
    const out = join(root, 'new', 'deeper', 'p.jsonl');
    await prepareOutputFile({ path: out, inputs: [] });
    expect(existsSync(join(root, 'new', 'deeper'))).toBe(true);
  });

  it('leaves out inputs that were not given', () => {
    expect(inputsOf({ '--dev': undefined, '--train': 'a.jsonl', '--teacher': ['t1', 't2'] })).toEqual([
      { flag: '--train', path: 'a.jsonl' }, { flag: '--teacher', path: 't1' }, { flag: '--teacher', path: 't2' },
    ]);
  });
});

describe('writeOutputDir', () => {
  it('writes a new directory with a manifest, and replaces an earlier output of the same command', async () => {
    const out = join(root, 'export');
    await writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '1', 'old.txt': '1' }));
    expect(readManifest(out)).toMatchObject({ command: 'export', files: ['a.txt', 'old.txt'] });
    await writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '2' }));
    expect(readdirSync(out).sort()).toEqual([MANIFEST_FILE, 'a.txt']);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('2');
    expect(readdirSync(root)).toEqual(['export']); // no sibling left behind
  });

  it('never removes <out>.tmp or <out>.old, which it did not write', async () => {
    const out = join(root, 'export');
    put(join(`${out}.tmp`, 'mine.txt'));
    put(join(`${out}.old`, 'mine.txt'));
    await writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '1' }));
    await writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '2' }));
    expect(readdirSync(root).sort()).toEqual(['export', 'export.old', 'export.tmp']);
    expect(existsSync(join(`${out}.tmp`, 'mine.txt')) && existsSync(join(`${out}.old`, 'mine.txt'))).toBe(true);
  });

  it('refuses a folder of unrelated files, and touches nothing', async () => {
    const out = join(root, 'notes');
    put(join(out, 'todo.txt'), 'keep me');
    expect(await asyncCodeOf(() => writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '1' })))).toBe('OUT_NOT_EMPTY');
    expect(readdirSync(out)).toEqual(['todo.txt']);
    expect(readdirSync(root)).toEqual(['notes']);
  });

  it('refuses the output of another command, by manifest or by an older version\'s marker', async () => {
    const baseline = join(root, 'baseline');
    await writeOutputDir({ command: 'baseline train', path: baseline, inputs: [] }, writeFiles({ 'baseline.json': '{}' }));
    expect(await asyncCodeOf(() => writeOutputDir(exportSpec(baseline), writeFiles({ 'a.txt': '1' })))).toBe('OUT_OF_ANOTHER_COMMAND');
    expect(existsSync(join(baseline, 'baseline.json'))).toBe(true);

    const run = join(root, 'run'); // a training run of a version before manifests
    put(join(run, 'config.json'), JSON.stringify({ train: 'train.jsonl', epochs: 3 }));
    put(join(run, 'metrics.jsonl'), '');
    put(join(run, 'checkpoints', 'last', 'progress.json'), '{}');
    expect(() => checkOutputDir(exportSpec(run))).toThrow(`--out: ${run} holds a training run`);
    expect(codeOf(() => checkOutputDir({ command: 'train', path: run, inputs: [] }, 'write into'))).toBe('none');
  });

  it('replaces an export of an older version (no manifest), but not one holding files export does not write', async () => {
    const out = join(root, 'export');
    put(join(out, 'onnx', 'model.onnx'));
    put(join(out, 'xlmt.json'));
    await writeOutputDir(exportSpec(out), writeFiles({ 'xlmt.json': 'new' }));
    expect(readFileSync(join(out, 'xlmt.json'), 'utf8')).toBe('new');

    put(join(out, 'README.md'), 'my notes');
    expect(await asyncCodeOf(() => writeOutputDir(exportSpec(out), writeFiles({ 'xlmt.json': 'newer' })))).toBe('OUT_NOT_EMPTY');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('my notes');
    expect(readFileSync(join(out, 'xlmt.json'), 'utf8')).toBe('new');
  });

  it('keeps the earlier output when writing fails, and leaves no temporary directory', async () => {
    const out = join(root, 'export');
    await writeOutputDir(exportSpec(out), writeFiles({ 'a.txt': '1' }));
    await expect(writeOutputDir(exportSpec(out), async () => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('1');
    expect(readdirSync(root)).toEqual(['export']);
  });

  it('replaces the directory a symlinked --out points to, keeping the link', async () => {
    const real = join(root, 'v1');
    await writeOutputDir(exportSpec(real), writeFiles({ 'a.txt': '1' }));
    symlinkSync(real, join(root, 'current'));
    await writeOutputDir(exportSpec(join(root, 'current')), writeFiles({ 'a.txt': '2' }));
    expect(readFileSync(join(real, 'a.txt'), 'utf8')).toBe('2');
    expect(readdirSync(root).sort()).toEqual(['current', 'v1']);
  });
});

describe('claimOutputDir', () => {
  it('creates the directory with a manifest, and takes it again later keeping what is there', async () => {
    const run = join(root, 'runs', 'a');
    const spec: OutputSpec = { command: 'train', path: run, inputs: [] };
    await claimOutputDir(spec);
    expect(readManifest(run)?.command).toBe('train');
    put(join(run, 'metrics.jsonl'), 'line');
    await claimOutputDir(spec);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe('line');
    expect(await asyncCodeOf(() => claimOutputDir({ ...spec, command: 'pretrain' }))).toBe('OUT_OF_ANOTHER_COMMAND');
  });

  it('takes a run of an older version and marks it', async () => {
    const run = join(root, 'run');
    put(join(run, 'config.json'), JSON.stringify({ corpus: ['a.txt'] }));
    put(join(run, 'model', 'config.json'));
    await claimOutputDir({ command: 'pretrain', path: run, inputs: [] });
    expect(readManifest(run)?.command).toBe('pretrain');
  });

  it('refuses a non-empty directory that is no earlier output', async () => {
    const out = join(root, 'export');
    put(join(out, 'config.json'), '{"model_type":"bert"}');
    expect(await asyncCodeOf(() => claimOutputDir({ command: 'train', path: out, inputs: [] }))).toBe('OUT_NOT_EMPTY');
    expect(existsSync(join(out, MANIFEST_FILE))).toBe(false);
  });
});

describe('recoverDir', () => {
  it('puts back the earlier output a crash left aside and removes a dead process\'s temporary directory', async () => {
    const out = join(root, 'best');
    put(join(`${out}.xlmt-old-${DEAD_PID}-aa`, 'a.txt'), 'old');
    put(join(`${out}.xlmt-old-${DEAD_PID}-aa`, MANIFEST_FILE), '{"format":"xlmt-output","version":1,"command":"train","createdAt":"x"}');
    put(join(`${out}.xlmt-tmp-${DEAD_PID}-bb`, MANIFEST_FILE), '{"format":"xlmt-output","version":1,"command":"train","createdAt":"x"}');
    await recoverDir(out);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['best']);
  });

  it('leaves siblings without a manifest, of a running process, or named otherwise', async () => {
    const out = join(root, 'best');
    const kept = [
      `best.xlmt-tmp-${DEAD_PID}-cc`, // no manifest: not known to be ours
      `best.xlmt-tmp-${process.pid}-dd`, // a process that still runs
      'best.tmp', 'best.old', 'best.xlmt-tmp-backup',
    ];
    for (const name of kept) put(join(root, name, MANIFEST_FILE), name.includes(String(DEAD_PID)) ? 'not json' : '{"format":"xlmt-output","version":1,"command":"train","createdAt":"x"}');
    await recoverDir(out);
    expect(readdirSync(root).sort()).toEqual([...kept].sort());
  });
});

// Configuration errors name where a setting came from: the flag, or the --config file and field; help shows the
// schema's defaults; "best so far" only when best/ is saved.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { resolvePretrainConfig } from '../../src/cli/pretrain.ts';
import { describeEval, trainCommand } from '../../src/cli/train.ts';
import { addTrainOptions, ALL_TRAIN_FLAGS, resolveConfig } from '../../src/cli/train-options.ts';
import { XlmtError } from '../../src/errors/index.ts';
import { ConfigError, parseTrainConfig } from '../../src/train/config.ts';
import type { EvalEvent } from '../../src/train/run.ts';
import { runXlmt } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'xlmt-config-errors-'));

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function thrown(f: () => unknown): XlmtError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(XlmtError);
    return e as XlmtError;
  }
  throw new Error('expected the call to throw');
}

/** `xlmt train` flags parsed as the command line would, then resolved. */
function resolveTrain(args: string[]): XlmtError {
  const command = addTrainOptions(new Command(), ALL_TRAIN_FLAGS).exitOverride();
  command.parse(args, { from: 'user' });
  return thrown(() => resolveConfig(command.opts()));
}

describe('the command line', () => {
  const xlmt = runXlmt;

  it('names --train when `xlmt train` has none, and --corpus for `xlmt pretrain`, with exit status 2', () => {
    const train = xlmt(['train']);
    expect(train.status).toBe(2);
    expect(train.stderr).toBe('xlmt: MISSING_OPTION: --train: required setting not given. Give --train or a --config file that sets it\n');
    const pretrain = xlmt(['pretrain']);
    expect(pretrain.status).toBe(2);
    expect(pretrain.stderr).toMatch(/^xlmt: MISSING_OPTION: --corpus: required setting not given/);
  });
});

describe('configuration errors', () => {
  it('name the --config file and field for a value from the file, and suggest a misspelt setting', () => {
    const file = configFile('lr.json', { train: 't.jsonl', lr: -1 });
    const lr = resolveTrain(['--config', file]);
    expect(lr).toBeInstanceOf(ConfigError);
    expect([lr.code, lr.where]).toEqual(['CONFIG_INVALID', { file, field: 'lr' }]);
    expect(lr.message).toBe(`${file}: lr: out of range (expected a number > 0; received -1)`);
    const typo = resolveTrain(['--config', configFile('typo.json', { train: 't.jsonl', epoch: 3 })]);
    expect(typo.problem).toBe('unknown setting');
    expect(typo.hint).toBe('did you mean "epochs"?');
  });

  it('name the flag for a value from the command line, even over a file', () => {
    const file = configFile('ok.json', { train: 't.jsonl', warmupRatio: 0.1 });
    const e = resolveTrain(['--config', file, '--warmup-ratio', '3']);
    expect([e.code, e.where, e.expected, e.received]).toEqual(['BAD_OPTION', { field: '--warmup-ratio' }, 'a number ≤ 1', '3']);
    const encoder = resolveTrain(['--train', 't.jsonl', '--patience', '-1']);
    expect(encoder.where).toEqual({ field: '--patience' });
  });

  it('say where to give a missing setting when a file was read', () => {
    const file = configFile('no-train.json', { epochs: 2 });
    const e = resolveTrain(['--config', file]);
    expect([e.code, e.where, e.hint]).toEqual(['MISSING_OPTION', { field: '--train' }, `give --train or set "train" in ${file}`]);
  });

  it('list every problem, missing settings first, and keep each as data', () => {
    const file = configFile('many.json', { epochs: 2.5, encoder: { layers: 0 } });
    const e = resolveTrain(['--config', file]);
    expect(e.code).toBe('MISSING_OPTION');
    expect(e.message).toContain(`2 more: ${file}: encoder.layers: out of range (expected a number > 0; received 0); ${file}: epochs: wrong type (expected a whole number; received 2.5)`);
    expect((e.details?.['issues'] as unknown[]).length).toBe(3);
  });

  it('report an unreadable or malformed --config file with its line', () => {
    expect(resolveTrain(['--config', join(dir, 'none.json')]).code).toBe('FILE_NOT_FOUND');
    const broken = resolveTrain(['--config', configFile('broken.json', '{\n  "epochs": 2\n  "lr": 1\n}')]);
    expect([broken.code, broken.where?.line]).toEqual(['CONFIG_INVALID', 3]);
    expect(resolveTrain(['--config', configFile('list.json', [1])]).problem).toBe('the configuration must be a JSON object');
  });

  it('name the pretraining flags the same way', () => {
    const e = thrown(() => resolvePretrainConfig({ corpus: ['c.txt'], steps: 5, epochs: 2 }));
    expect([e.code, e.where]).toEqual(['BAD_OPTION', { field: '--steps' }]);
    expect(thrown(() => resolvePretrainConfig({})).where).toEqual({ field: '--corpus' });
  });

  it('name a library caller\'s source and field', () => {
    const e = thrown(() => parseTrainConfig({ train: 't.jsonl', pooling: 'max' }, 'run.json'));
    expect(e.message).toBe('run.json: pooling: not one of the choices (expected one of "cls", "mean"; received "max")');
  });
});

describe('train --help', () => {
  it('shows the schema\'s default of each flag that has one, without setting it', () => {
    const help = trainCommand().helpInformation();
    for (const shown of ['(default: runs/train)', '(default: 128)', '(default: 5e-5)', '(default: cls)', '(default: 6)']) expect(help).toContain(shown);
    expect(help).not.toMatch(/--train <file>[^\n]*default/);
    const command = addTrainOptions(new Command(), ALL_TRAIN_FLAGS).exitOverride();
    command.parse(['--train', 't.jsonl'], { from: 'user' });
    expect(command.opts()['maxLength']).toBeUndefined();
  });
});

describe('describeEval', () => {
  const event = (score: number, improved: boolean, previousBest: number | null): EvalEvent => ({
    epoch: 2, step: 10, improved, previousBest,
    evaluation: { summary: { meanMacroF1: score, tasks: [{ task: 'topic', macroF1: score }] } } as unknown as EvalEvent['evaluation'],
  });

  it('says "best so far" only for a strictly better score, with the digits that tell a near tie apart', () => {
    expect(describeEval(event(0.5, true, null))).toBe('epoch 2: dev mean macro-F1 50.0 (topic 50.0), best so far');
    expect(describeEval(event(0.5, false, 0.5))).toBe('epoch 2: dev mean macro-F1 50.0 (topic 50.0)');
    expect(describeEval(event(0.6, true, 0.5))).toBe('epoch 2: dev mean macro-F1 60.0 (topic 60.0), best so far');
    expect(describeEval(event(0.50012, true, 0.5))).toBe('epoch 2: dev mean macro-F1 50.0 (topic 50.0), best so far (50.01, up from 50.00)');
  });
});

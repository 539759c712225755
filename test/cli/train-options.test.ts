// Training flags: --char-ngrams ranges, repeated --teacher files, and how a config file validates them.
import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { intRange } from '../../src/cli/options.ts';
import { addTrainOptions, resolveConfig } from '../../src/cli/train-options.ts';
import { parseTrainConfig } from '../../src/train/config.ts';

describe('--char-ngrams', () => {
  const parse = intRange('--char-ngrams');

  it('reads MIN-MAX, or one length', () => {
    expect(parse('3-5')).toEqual({ min: 3, max: 5 });
    expect(parse('4')).toEqual({ min: 4, max: 4 });
  });

  it('names the flag and the expected form for anything else', () => {
    for (const bad of ['5-3', '0-2', 'a-b', '3-', '-3', '3-5-7', '']) {
      expect(() => parse(bad), bad).toThrow(InvalidArgumentError);
      expect(() => parse(bad), bad).toThrow(/--char-ngrams expects MIN-MAX/);
    }
  });
});

describe('charNgrams in a configuration', () => {
  it('is off by default and refuses min above max, naming the field', () => {
    expect(parseTrainConfig({ train: 't.jsonl' }, 'run.json').charNgrams).toBeUndefined();
    expect(parseTrainConfig({ train: 't.jsonl', charNgrams: { min: 3, max: 5 } }, 'run.json').charNgrams).toEqual({ min: 3, max: 5 });
    expect(() => parseTrainConfig({ train: 't.jsonl', charNgrams: { min: 5, max: 3 } }, 'run.json')).toThrow(/run\.json: charNgrams: min must not exceed max/);
    expect(() => parseTrainConfig({ train: 't.jsonl', charNgrams: { min: 3 } }, 'run.json')).toThrow(/run\.json: charNgrams\.max/);
  });
});

describe('--teacher', () => {
  it('repeats for an ensemble; a configuration takes one file or a list', () => {
    const command = addTrainOptions(new Command(), ['train', 'teacher']).exitOverride();
    command.parse(['--train', 't.jsonl', '--teacher', 'a.jsonl', '--teacher', 'b.jsonl'], { from: 'user' });
    expect(resolveConfig(command.opts()).teacher).toEqual(['a.jsonl', 'b.jsonl']);
    expect(parseTrainConfig({ train: 't.jsonl', teacher: 'a.jsonl' }, 'run.json').teacher).toEqual(['a.jsonl']);
    expect(parseTrainConfig({ train: 't.jsonl' }, 'run.json').teacher).toBeUndefined();
    expect(() => parseTrainConfig({ train: 't.jsonl', teacher: [] }, 'run.json')).toThrow(/run\.json: teacher/);
  });
});

// Training flags: --char-ngrams ranges, and how a config file's charNgrams is validated.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { intRange } from '../../src/cli/options.ts';
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

// The load test's input: the texts of a JSONL file, with the line of any row that has none.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTexts } from '../../src/bench/load.ts';

const file = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'xlmt-load-')), 'texts.jsonl');
  writeFileSync(path, content);
  return path;
};

describe('readTexts', () => {
  it('reads every text, skipping blank lines', () => {
    expect(readTexts(file('{"text": "a", "lang": "en"}\n\n{"text": "b"}\n'))).toEqual(['a', 'b']);
  });

  it('names the line without a text, and an empty file', () => {
    const noText = file('{"text": "a"}\n\n{"body": "b"}\n');
    expect(() => readTexts(noText)).toThrow(`${noText}:3: text: no "text" string`);
    const empty = file('\n');
    expect(() => readTexts(empty)).toThrow(`${empty}: no texts`);
  });

  it('reads the bundled demo dev set', () => {
    expect(readTexts(join(import.meta.dirname, '../../data/demo/dev.jsonl'))).toHaveLength(920);
  });
});

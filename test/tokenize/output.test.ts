// `xlmt tokenizer train --out`: never one of its corpus files, through a symlink or a hard link either.
import { linkSync, readFileSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenizerCommand } from '../../src/cli/tokenizer.ts';
import { writeTemp } from './fixtures.ts';

describe('tokenizer train --out', () => {
  it('refuses a corpus file, a symlink and a hard link to one, leaving it whole', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} of the corpus`).join('\n');
    const corpus = writeTemp('corpus.txt', text);
    symlinkSync(corpus, `${corpus}.soft`);
    linkSync(corpus, `${corpus}.hard`);
    for (const out of [corpus, `${corpus}.soft`, `${corpus}.hard`]) {
      const train = tokenizerCommand().parseAsync(['train', '--corpus', corpus, '--type', 'wordpiece', '--vocab-size', '200', '--out', out], { from: 'user' });
      await expect(train).rejects.toMatchObject({ code: 'OUT_IS_INPUT' });
    }
    expect(readFileSync(corpus, 'utf8')).toBe(text);
  });
});

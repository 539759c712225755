// `xlmt tokenizer train` and `xlmt tokenizer encode`, run in-process through commander.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenizerCommand } from '../../src/cli/tokenizer.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { corpusLines, tempDir, writeTemp, xlmrJson } from './fixtures.ts';

async function run(args: string[]): Promise<string[]> {
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void printed.push(parts.join(' ')));
  try {
    await tokenizerCommand().parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return printed;
}

describe('xlmt tokenizer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('train: reads JSONL, prints figures, writes a loadable tokenizer.json', async () => {
    const lines = corpusLines(1000);
    const corpus = writeTemp('corpus.jsonl', lines.map((sentence) => JSON.stringify({ sentence })).join('\n'));
    const out = join(tempDir(), 'out', 'tokenizer.json');
    const printed = await run(['train', '--corpus', corpus, '--type', 'wordpiece', '--vocab-size', '1500', '--lowercase', '--text-field', 'sentence', '--out', out]);
    expect(printed[0]).toMatch(new RegExp(`^read ${lines.length.toLocaleString('en-US')} texts \\([\\d,]+ characters\\) from 1 file  \\[\\d+\\.\\d s\\]$`));
    expect(printed[1]).toMatch(/^trainer produced [\d,]+ pieces {2}\[\d+\.\d s\]$/);
    expect(printed.at(-1)).toMatch(
      new RegExp(`^wrote ${out.replaceAll('/', '\\/')}: wordpiece, vocab 1,500, pad=\\[PAD\\]:0 cls=\\[CLS\\]:2 sep=\\[SEP\\]:3 unk=\\[UNK\\]:1 mask=\\[MASK\\]:4`),
    );
    const tokenizer = TextTokenizer.fromFile(out);
    expect(tokenizer.vocabSize).toBe(1500);
    expect((await tokenizer.tokenize('HELLO')).tokens.join(' ')).toMatch(/^\[CLS\] h.* \[SEP\]$/);
  });

  it('encode: prints tokens and ids per text, or JSON lines', async () => {
    const path = writeTemp('xlmr.json', xlmrJson());
    expect(await run(['encode', '--tokenizer', path, 'hello world', ''])).toEqual([
      '"hello world"  (4 tokens)\n  tokens ["<s>","▁hello","▁world","</s>"]\n  ids    [0,4,5,2]',
      '""  (2 tokens)\n  tokens ["<s>","</s>"]\n  ids    [0,2]',
    ]);
    expect(await run(['encode', '--tokenizer', path, '--json', 'worlds'])).toEqual([
      JSON.stringify({ text: 'worlds', tokens: ['<s>', '▁world', 's', '</s>'], ids: [0, 5, 6, 2] }),
    ]);
  });

  it('encode: a missing tokenizer file is an error naming it', async () => {
    await expect(run(['encode', '--tokenizer', '/nonexistent/tokenizer.json', 'hi'])).rejects.toThrow('/nonexistent/tokenizer.json: cannot read the tokenizer: no such file or directory');
  });
});

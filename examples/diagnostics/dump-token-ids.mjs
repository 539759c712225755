// Writes the token ids of every train and dev text of a dataset directory, one line of space-separated ids per
// row, for linear-probe.py. Usage (from the repository root):
//   node examples/diagnostics/dump-token-ids.mjs TOKENIZER_JSON DATA_DIR OUT_DIR
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';

const [tokenizerFile, dataDir, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: dump-token-ids.mjs TOKENIZER_JSON DATA_DIR OUT_DIR');
const tokenizer = await Tokenizer.fromFile(tokenizerFile);
mkdirSync(outDir, { recursive: true });
for (const split of ['train', 'dev']) {
  const rows = readFileSync(join(dataDir, `${split}.jsonl`), 'utf8').split('\n').filter((l) => l.trim());
  const lines = [];
  for (const row of rows) lines.push((await tokenizer.encode(JSON.parse(row).text)).getIds().join(' '));
  writeFileSync(join(outDir, `ids-${split}.txt`), `${lines.join('\n')}\n`);
}

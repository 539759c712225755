// A tiny two-task, two-language dataset with a tokenizer, written to a temporary directory for run tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { Random } from '../../src/util/random.ts';

const WORDS = {
  en: { good: ['great', 'lovely', 'fine'], bad: ['awful', 'broken', 'slow'], filler: ['the', 'service', 'was', 'today', 'and', 'staff'] },
  de: { good: ['toll', 'super', 'prima'], bad: ['schlecht', 'kaputt', 'langsam'], filler: ['der', 'dienst', 'war', 'heute', 'und', 'team'] },
} as const;

export interface RunFixture {
  readonly dir: string;
  readonly train: string;
  readonly dev: string;
  readonly tasks: string;
  readonly tokenizer: string;
}

/**
 * sentiment (multiclass: negative/positive) depends on which word list a text draws from; topics (multilabel:
 * price/staff) on marker words. Rows are labeled for one task or both, as in real feedback data.
 */
function rows(random: Random, count: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const lang = i % 2 === 0 ? 'en' : 'de';
    const w = WORDS[lang];
    const positive = random.next() < 0.5;
    const pick = (xs: readonly string[]): string => xs[random.int(xs.length)] as string;
    const words = [pick(w.filler), pick(positive ? w.good : w.bad), pick(w.filler)];
    const topics: string[] = [];
    if (random.next() < 0.4) { words.push('price'); topics.push('price'); }
    if (random.next() < 0.4) { words.push(lang === 'en' ? 'people' : 'leute'); topics.push('staff'); }
    const kind = i % 3;
    const labels: Record<string, unknown> = {};
    if (kind !== 1) labels.sentiment = positive ? 'positive' : 'negative';
    if (kind !== 0) labels.topics = topics;
    lines.push(JSON.stringify({ id: `r${i}`, text: words.join(' '), lang, labels }));
  }
  return lines;
}

export async function runFixture(trainRows = 120, devRows = 40): Promise<RunFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-run-'));
  const random = new Random(11);
  const train = join(dir, 'train.jsonl');
  const dev = join(dir, 'dev.jsonl');
  const tasks = join(dir, 'tasks.json');
  const tokenizer = join(dir, 'tokenizer.json');
  const trainLines = rows(random, trainRows);
  writeFileSync(train, `${trainLines.join('\n')}\n`);
  writeFileSync(dev, `${rows(random, devRows).join('\n')}\n`);
  writeFileSync(tasks, JSON.stringify({
    sentiment: { type: 'multiclass', labels: ['negative', 'positive'] },
    topics: { type: 'multilabel', labels: ['price', 'staff'] },
  }));
  writeFileSync(tokenizer, wordPieceJson(120));
  return { dir, train, dev, tasks, tokenizer };
}

/**
 * A BERT-layout WordPiece tokenizer.json of exactly `size` entries: specials, every fixture word whole, single
 * letters and ##letters, then [unusedN] slots as mBERT has. Written by hand because the trainer of the
 * `tokenizers` bindings breaks ties in hash order, which made trained fixtures (and the runs on them) vary.
 */
export function wordPieceJson(size: number): string {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const words = [...new Set([...Object.values(WORDS).flatMap((w) => [...w.good, ...w.bad, ...w.filler]), 'price', 'people', 'leute'])].sort();
  const letters = [...new Set(words.join(''))].sort();
  const tokens = [...specials, ...words, ...letters, ...letters.map((c) => `##${c}`)];
  for (let i = 0; tokens.length < size; i++) tokens.push(`[unused${i}]`);
  const vocab = Object.fromEntries(tokens.map((t, id) => [t, id]));
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

/** What `trainedRun` may change about the tiny run: the encoder's shape and the training settings. */
export interface TinyRunOptions {
  readonly layers?: number;
  readonly heads?: number;
  readonly ffn?: number;
  readonly epochs?: number;
  readonly lr?: number;
}

/**
 * A fixture's data trained into `<dir>/run` with a tiny encoder (hidden 16), for tests of what reads a run:
 * export, the compression passes. Returns the run directory.
 */
export async function trainedRun(data: RunFixture, o: TinyRunOptions = {}): Promise<string> {
  const run = join(data.dir, 'run');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: run,
    encoder: { layers: o.layers ?? 1, hidden: 16, heads: o.heads ?? 2, ffn: o.ffn ?? 32, maxPositions: 40 },
    maxLength: 16, batchSize: 8, epochs: o.epochs ?? 1, threads: 1, ...(o.lr !== undefined ? { lr: o.lr } : {}),
  }, 'test'), { log: () => {} });
  return run;
}


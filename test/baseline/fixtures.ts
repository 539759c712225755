// A small three-language, two-task dataset for baseline tests, written to a temporary directory: sentiment
// (multiclass) follows from which word list a text draws from, topics (multilabel) from marker words.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../src/util/random.ts';

const WORDS = {
  en: { negative: ['awful', 'broken', 'rude'], neutral: ['okay', 'average', 'usual'], positive: ['great', 'lovely', 'perfect'], filler: ['the', 'service', 'was', 'today', 'and'], price: 'price', staff: 'people' },
  de: { negative: ['schlecht', 'kaputt', 'unhöflich'], neutral: ['normal', 'üblich', 'mittel'], positive: ['toll', 'super', 'prima'], filler: ['der', 'dienst', 'war', 'heute', 'und'], price: 'preis', staff: 'leute' },
  ru: { negative: ['ужасно', 'сломано', 'грубо'], neutral: ['нормально', 'обычно', 'средне'], positive: ['отлично', 'прекрасно', 'чудесно'], filler: ['сервис', 'был', 'сегодня', 'и', 'там'], price: 'цена', staff: 'персонал' },
} as const;

const SENTIMENTS = ['negative', 'neutral', 'positive'] as const;
export const LANGS = Object.keys(WORDS) as (keyof typeof WORDS)[];

export interface BaselineFixture {
  readonly dir: string;
  readonly train: string;
  readonly dev: string;
  readonly tasks: string;
}

/** Rows labeled for sentiment, topics or both (by row number), as partially labeled feedback data is. */
function rows(random: Random, count: number, prefix: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const lang = LANGS[i % LANGS.length]!;
    const w = WORDS[lang];
    const sentiment = SENTIMENTS[random.int(3)]!;
    const pick = (xs: readonly string[]): string => xs[random.int(xs.length)]!;
    const words = [pick(w.filler), pick(w[sentiment]), pick(w.filler), pick(w.filler)];
    const topics: string[] = [];
    if (random.next() < 0.4) { words.push(w.price); topics.push('price'); }
    if (random.next() < 0.4) { words.push(w.staff); topics.push('staff'); }
    const kind = Math.floor(i / LANGS.length) % 3;
    const labels: Record<string, unknown> = {};
    if (kind !== 1) labels.sentiment = sentiment;
    if (kind !== 0) labels.topics = topics;
    lines.push(JSON.stringify({ id: `${prefix}${i}`, text: words.join(' '), lang, labels }));
  }
  return lines;
}

export const TASKS = {
  sentiment: { type: 'multiclass', labels: [...SENTIMENTS] },
  topics: { type: 'multilabel', labels: ['price', 'staff'] },
} as const;

export function baselineFixture(trainRows = 300, devRows = 120): BaselineFixture {
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-baseline-'));
  const random = new Random(17);
  const fixture = { dir, train: join(dir, 'train.jsonl'), dev: join(dir, 'dev.jsonl'), tasks: join(dir, 'tasks.json') };
  writeFileSync(fixture.train, `${rows(random, trainRows, 'train').join('\n')}\n`);
  writeFileSync(fixture.dev, `${rows(random, devRows, 'dev').join('\n')}\n`);
  writeFileSync(fixture.tasks, JSON.stringify(TASKS));
  return fixture;
}

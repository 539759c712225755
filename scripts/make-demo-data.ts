// Draws the bundled demo dataset (data/demo/) from xm-bench: a seeded, stratified sample per task × language.
// Usage: npx tsx scripts/make-demo-data.ts [path/to/xm-bench]   (default ../shared/data/xm-bench)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../src/util/random.ts';

const source = process.argv[2] ?? '../shared/data/xm-bench';
const out = 'data/demo';
/** Rows kept per task and language. */
const PER_LANGUAGE = {
  train: { sentiment: 150, topic: 60, emotion: 100 },
  dev: { sentiment: 40, topic: 20, emotion: 30 },
} as const;
const UNLABELED_LINES = 10_000;

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function sample(split: 'train' | 'dev', random: Random): string[] {
  const groups = new Map<string, string[]>();
  for (const line of readFileSync(join(source, `${split}.jsonl`), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { lang: string; labels: Record<string, unknown> };
    const key = `${Object.keys(row.labels)[0]}|${row.lang}`;
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  const kept: string[] = [];
  for (const [key, lines] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const task = key.split('|')[0] as keyof (typeof PER_LANGUAGE)['train'];
    kept.push(...shuffled(lines, random).slice(0, PER_LANGUAGE[split][task]));
  }
  return shuffled(kept, random);
}

mkdirSync(out, { recursive: true });
const random = new Random(2022);
for (const split of ['train', 'dev'] as const) {
  const rows = sample(split, random);
  writeFileSync(join(out, `${split}.jsonl`), `${rows.join('\n')}\n`);
  console.log(`${split}: ${rows.length} rows`);
}
const unlabeled = readFileSync(join(source, 'unlabeled.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
writeFileSync(join(out, 'unlabeled.jsonl'), `${shuffled(unlabeled, random).slice(0, UNLABELED_LINES).join('\n')}\n`);
console.log(`unlabeled: ${UNLABELED_LINES} lines`);
copyFileSync(join(source, 'tasks.json'), join(out, 'tasks.json'));

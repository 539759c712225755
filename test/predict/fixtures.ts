// A stub classifier whose answers follow from the text (so tests can predict them) and temporary input files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, selectTasks, type Classifier, type TaskInfo, type TextPrediction } from '../../src/infer/types.ts';

export const STUB_TASKS: readonly TaskInfo[] = [
  { name: 'sentiment', type: 'multiclass', labels: ['negative', 'positive'] },
  { name: 'topics', type: 'multilabel', labels: ['price', 'staff'], thresholds: [0.5, 0.5] },
];

/** sentiment: positive when the text says "good"; topics: the topic words it contains; truncated past 8 words (cut at non-letters). */
export class StubClassifier implements Classifier {
  readonly tasks = STUB_TASKS;
  readonly maxLength = 10;
  /** Texts per classify call, in call order. */
  readonly calls: number[] = [];

  /** `failOnCall`: the 1-based call that throws, to stop a run between chunks as a crash would. */
  constructor(private readonly failOnCall: number | null = null) {}

  async classify(texts: readonly string[], taskNames?: readonly string[]): Promise<TextPrediction[]> {
    this.calls.push(texts.length);
    if (this.calls.length === this.failOnCall) throw new Error('simulated crash');
    const tasks = selectTasks(this.tasks, taskNames);
    return texts.map((text) => {
      const words = text.split(/[^a-z]+/i);
      const probs: Record<string, number[]> = {
        sentiment: words.includes('good') ? [0.25, 0.75] : [0.875, 0.125],
        topics: [words.includes('price') ? 0.9 : 0.1, words.includes('staff') ? 0.6 : 0.3],
      };
      return { tasks: Object.fromEntries(tasks.map((t) => [t.name, decide(t, probs[t.name] ?? [])])), truncated: words.length > 8 };
    });
  }

  async release(): Promise<void> {}
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xlmt-predict-'));
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

const WORDS = ['good', 'bad', 'price', 'staff', 'the', 'was', 'service', 'today'];

/** `n` JSONL rows `{"id": "r<i>", "text": …, "lang": …}` with texts that vary in length and words. */
export function jsonlRows(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 1 + ((i * 7) % 11) }, (_, j) => WORDS[(i + j * 3) % WORDS.length] as string);
    lines.push(JSON.stringify({ id: `r${i}`, text: words.join(' '), lang: i % 2 === 0 ? 'en' : 'de', source: 'test' }));
  }
  return `${lines.join('\n')}\n`;
}

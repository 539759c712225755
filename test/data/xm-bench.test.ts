// The real xm-bench files load whole, with the per-task row counts and language sets its README states.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datasetStats, loadDataset, loadTaskSchema, type TaskStats } from '../../src/data/index.ts';

const DIR = '../shared/data/xm-bench';

const lineCount = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;
const labeledLangs = (t: TaskStats | undefined) => Object.entries(t?.byLang ?? {}).filter(([, c]) => c.labeled > 0).map(([lang]) => lang).join(' ');

describe('xm-bench', () => {
  it('loads every dev row with the README counts per task and languages per task', async () => {
    const schema = await loadTaskSchema(`${DIR}/tasks.json`);
    const d = await loadDataset(`${DIR}/dev.jsonl`, { schema });
    expect(lineCount(`${DIR}/dev.jsonl`)).toBe(12_440);
    expect(d.examples).toHaveLength(12_440);
    expect(d.examples.every((e) => e.labels.size === 1)).toBe(true); // one task per row, as the README says
    const stats = datasetStats(d);
    expect(stats.tasks.map((t) => [t.task, t.labeled])).toEqual([
      ['sentiment', 2_592],
      ['topic', 1_188],
      ['emotion', 8_660],
    ]);
    const [sentiment, topic, emotion] = stats.tasks;
    expect(labeledLangs(sentiment)).toBe('ar de en es fr hi it pt');
    expect(labeledLangs(topic)).toBe('ar de en es fr hi it ja ko pl pt zh');
    expect(labeledLangs(emotion)).toBe('ar de en es fi fr it nl pl pt tr zh');
    expect(sentiment?.labels).toEqual({ negative: 864, neutral: 864, positive: 864 });
    expect(emotion?.emptySet).toBe(515);
    expect(emotion?.byLang['en']?.emptySet).toBe(239);
  });

  it('loads every train row with the README counts per task', async () => {
    const schema = await loadTaskSchema(`${DIR}/tasks.json`);
    const d = await loadDataset(`${DIR}/train.jsonl`, { schema });
    expect(d.examples).toHaveLength(lineCount(`${DIR}/train.jsonl`));
    expect(datasetStats(d).tasks.map((t) => [t.task, t.labeled])).toEqual([
      ['sentiment', 14_712],
      ['topic', 8_412],
      ['emotion', 58_623],
    ]);
  });
});

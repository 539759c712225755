// Dataset statistics: task × language × label counts, unlabeled rows per task, and multilabel empty sets.
import { describe, expect, it } from 'vitest';
import { datasetStats, loadDataset } from '../../src/data/index.ts';
import { jsonl, schema } from './helpers.ts';

describe('datasetStats', () => {
  it('counts labels per task and language, rows not labeled per task, and empty label sets', async () => {
    const path = jsonl('stats.jsonl', [
      { text: '1', lang: 'en', labels: { sentiment: 'positive', emotion: ['joy', 'trust'] } },
      { text: '2', lang: 'en', labels: { sentiment: 'positive' } },
      { text: '3', lang: 'de', labels: { sentiment: 'negative', emotion: [] } },
      { text: '4', lang: 'de', labels: { emotion: ['joy'] } },
      { text: '5', lang: 'fr', labels: { emotion: [] } },
      { text: '6', lang: 'fr' },
    ]);
    const s = datasetStats(await loadDataset(path, { schema, allowUnlabeled: true }));
    expect(s.rows).toBe(6);
    expect(s.unlabeledRows).toBe(1);
    expect(s.rowsByLang).toEqual({ de: 2, en: 2, fr: 2 });
    const [sentiment, topic, emotion] = s.tasks;
    expect(sentiment).toEqual({
      task: 'sentiment',
      type: 'multiclass',
      labeled: 3,
      unlabeled: 3,
      emptySet: 0,
      labels: { negative: 1, neutral: 0, positive: 2 },
      byLang: {
        de: { labeled: 1, unlabeled: 1, emptySet: 0, labels: { negative: 1, neutral: 0, positive: 0 } },
        en: { labeled: 2, unlabeled: 0, emptySet: 0, labels: { negative: 0, neutral: 0, positive: 2 } },
        fr: { labeled: 0, unlabeled: 2, emptySet: 0, labels: { negative: 0, neutral: 0, positive: 0 } },
      },
    });
    expect([topic?.labeled, topic?.unlabeled]).toEqual([0, 6]);
    expect(emotion?.labels).toEqual({ anger: 0, joy: 2, trust: 1 });
    expect([emotion?.labeled, emotion?.unlabeled, emotion?.emptySet]).toEqual([4, 2, 2]);
    expect(emotion?.byLang['fr']).toEqual({ labeled: 1, unlabeled: 1, emptySet: 1, labels: { anger: 0, joy: 0, trust: 0 } });
  });
});

// Markdown rendering: exact strings for the task × language table and the variant comparison table.
import { describe, expect, it } from 'vitest';
import {
  comparisonTable,
  evaluateTask,
  formatDegradation,
  formatRuns,
  formatScore,
  summarizeRuns,
  taskLanguageTable,
} from '../../src/eval/index.ts';
import { emotion, emotionPredictions, sentiment, sentimentPredictions } from './fixtures.ts';

describe('formatting', () => {
  it('prints fractions ×100 with one decimal, never "-0.0"', () => {
    expect(formatScore(0.8532)).toBe('85.3');
    expect(formatScore(1)).toBe('100.0');
    expect(formatScore(-0.0001)).toBe('0.0');
    expect(formatScore(Number.NaN)).toBe('n/a');
    expect(formatRuns(summarizeRuns([0.8, 0.82, 0.84]))).toBe('82.0 ± 5.0');
    expect(formatRuns(summarizeRuns([0.8]))).toBe('80.0');
    expect(formatDegradation({ estimate: 5.4878, ci: null, method: 'paired' })).toBe('5.5');
  });
});

describe('taskLanguageTable', () => {
  it('renders macro-F1 per task and language, the overall column and a mean row', () => {
    const reports = [evaluateTask(sentiment, sentimentPredictions), evaluateTask(emotion, emotionPredictions)];
    // sentiment: de 0.6, en 0.8, all 0.785185; emotion: en 5/9, fr 5/6, all 0.533333.
    // mean: de 0.6, en (0.8 + 0.5556) / 2 = 0.6778, fr 0.8333, all (0.7852 + 0.5333) / 2 = 0.6593.
    expect(taskLanguageTable(reports)).toBe(
      [
        '| task      |   de |   en |   fr |  all |',
        '| --------- | ---: | ---: | ---: | ---: |',
        '| sentiment | 60.0 | 80.0 |    - | 78.5 |',
        '| emotion   |    - | 55.6 | 83.3 | 53.3 |',
        '| mean      | 60.0 | 67.8 | 83.3 | 65.9 |',
        '',
      ].join('\n'),
    );
  });

  it('sorts the language columns whatever order the tasks come in', () => {
    const reports = [evaluateTask(emotion, emotionPredictions), evaluateTask(sentiment, sentimentPredictions)];
    const lines = taskLanguageTable(reports).split('\n');
    expect(lines[0]).toBe('| task      |   de |   en |   fr |  all |');
    expect(lines[2]).toBe('| emotion   |    - | 55.6 | 83.3 | 53.3 |');
  });
});

describe('comparisonTable', () => {
  it('renders mean ± 95% CI per variant and the relative degradation against the first variant', () => {
    const table = comparisonTable({
      rowHeader: 'language',
      variants: ['XLM-R', 'distilled'],
      rows: [
        { key: 'en', runs: { 'XLM-R': [0.8, 0.82, 0.84], distilled: [0.76, 0.78, 0.77, 0.79] } },
        { key: 'de', runs: { 'XLM-R': [0.7], distilled: [0.65, 0.67] } },
        { key: 'fr', runs: { 'XLM-R': [0.9, 0.9] } },
      ],
    });
    // en: 82.0 ± t(2)·0.02/√3 = 4.97; 77.5 ± t(3)·0.01291/2 = 2.05; Δ 5.49 ± 4.63 (see stats.test.ts).
    // de: one reference run, so no interval on Δ = 4 / 0.7 = 5.71; 66.0 ± t(1)·0.01414/√2 = 12.71.
    expect(table).toBe(
      [
        '| language |      XLM-R |   distilled | Δ% distilled |',
        '| -------- | ---------: | ----------: | -----------: |',
        '| en       | 82.0 ± 5.0 |  77.5 ± 2.1 |    5.5 ± 4.6 |',
        '| de       |       70.0 | 66.0 ± 12.7 |          5.7 |',
        '| fr       | 90.0 ± 0.0 |           - |            - |',
        '',
      ].join('\n'),
    );
  });

  it('escapes pipes in names and needs at least one variant', () => {
    const table = comparisonTable({ rowHeader: 'task', variants: ['a|b'], rows: [{ key: 'x', runs: { 'a|b': [0.5] } }] });
    expect(table.split('\n')[0]).toBe('| task | a\\|b |');
    expect(() => comparisonTable({ rowHeader: 'task', variants: [], rows: [] })).toThrow(/no variants/);
  });
});

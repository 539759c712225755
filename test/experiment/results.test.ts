// From run scores to comparison tables: cells per seed, Δ% against the reference, and the cells a table cannot
// show as computed (a skipped monolingual model, an undefined macro-F1, a reference scoring 0).
import { describe, expect, it } from 'vitest';
import { makeSchema, makeTask, type Example } from '../../src/data/index.ts';
import { compareRuns, planExperiment, type PlannedRun, type RunRecord } from '../../src/experiment/index.ts';

const schema = makeSchema(['a', 'b'].map((t) => makeTask(t, 'multiclass', ['no', 'yes'])), { kind: 'inline', file: null });
const rows = (lang: string, n: number): Example[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${lang}${i}`, text: 'x', lang, labels: new Map([['a', 0], ['b', 1]]), line: i + 1 }));
// fr has too few rows for monolingual models: the fr cells of the cross-lingual tables have no reference.
const plan = planExperiment(schema, [...rows('en', 30), ...rows('de', 30), ...rows('fr', 5)], [...rows('en', 4), ...rows('de', 4), ...rows('fr', 4)], {
  compare: ['multitask', 'crosslingual'], seeds: [1, 2], minRows: 20,
});

type Scores = Record<string, { all: number; langs?: Record<string, number> }>;

function record(run: PlannedRun, scores: Scores): RunRecord {
  const dev = Object.entries(scores).map(([task, s]) => ({
    task, n: 12, macroF1: Number.isNaN(s.all) ? null : s.all,
    perLanguage: Object.entries(s.langs ?? {}).map(([lang, v]) => ({ lang, n: 4, macroF1: v })),
  }));
  return { ...run, trained: true, steps: 1, epochs: 1, stoppedEarly: false, bestEpoch: 1, dev };
}

function scoresOf(run: PlannedRun): Scores {
  const bySeed = (first: number, second: number): number => (run.seed === 1 ? first : second);
  if (run.variant === 'multi-task') return { a: { all: bySeed(0.8, 0.9) }, b: { all: bySeed(0.6, Number.NaN) } };
  if (run.variant === 'single-task') return { [run.task as string]: { all: bySeed(0.7, 0.8), langs: { de: bySeed(0.6, 0.7), en: bySeed(0.7, 0.8), fr: 0.5 } } };
  // a/de monolingual scores exactly 0 with both seeds.
  return { [run.task as string]: { all: run.task === 'a' && run.lang === 'de' ? 0 : bySeed(0.5, 0.6) } };
}

const results = compareRuns(plan, plan.runs.map((r) => record(r, scoresOf(r))));

describe('compareRuns', () => {
  it('fills each cell with the runs\' scores by seed and measures Δ% against the reference', () => {
    const multitask = results[0];
    expect(multitask?.variants).toEqual(['single-task', 'multi-task']);
    const a = multitask?.rows[0];
    expect(a?.cells['single-task']?.runs).toEqual([0.7, 0.8]);
    expect(a?.cells['multi-task']?.runs).toEqual([0.8, 0.9]);
    expect(a?.delta['multi-task']?.estimate).toBeCloseTo(((0.75 - 0.85) / 0.75) * 100, 10);
    // Δ% ± by the delta method with Welch df: SE² = (100/0.75)²·0.005/2 + (100·0.85/0.75²)²·0.005/2, df ≈ 1.97.
    expect(multitask?.markdown.split('\n')[2]).toBe('| a    | 75.0 ± 63.5 | 85.0 ± 63.5 |  -13.3 ± 44.0 |');
  });

  it('leaves out runs with an undefined macro-F1 and says so', () => {
    const b = results[0]?.rows[1];
    expect(b?.cells['multi-task']?.runs).toEqual([0.6, null]);
    expect(b?.cells['multi-task']?.summary).toMatchObject({ n: 1, mean: 0.6, ci: null });
    expect(results[0]?.notes).toEqual(['b, multi-task: 1 of 2 runs have no defined macro-F1 (no label gold or predicted) and are left out']);
  });

  it('shows "-" for a skipped monolingual model and blanks a zero reference', () => {
    const a = results[1];
    expect(a?.task).toBe('a');
    expect(a?.rows.map((r) => r.key)).toEqual(['de', 'en', 'fr']);
    const [de, en, fr] = a?.rows ?? [];
    expect(fr?.cells.monolingual?.runs).toEqual([]);
    expect(fr?.cells['cross-lingual']?.runs).toEqual([0.5, 0.5]);
    expect(fr?.delta['cross-lingual']).toBeNull();
    expect(de?.cells.monolingual?.runs).toEqual([0, 0]);
    expect(de?.delta['cross-lingual']).toBeNull();
    expect(en?.delta['cross-lingual']?.estimate).toBeCloseTo(((0.55 - 0.75) / 0.55) * 100, 10);
    expect(a?.notes).toEqual(['de: monolingual scores 0.0, so Δ% is undefined and the cell is left blank']);
    const table = a?.markdown.split('\n') ?? [];
    expect(table[2]).toMatch(/^\| de +\| +- \| +65\.0 ± 63\.5 \| +- \|$/);
    expect(table[4]).toMatch(/^\| fr +\| +- \| +50\.0 ± 0\.0 \| +- \|$/);
  });
});

// The budget search's parts: budgets and their checks, the space's candidates, the search on a toy whose answer is
// known, and the Pareto front with its picture.
import { describe, expect, it } from 'vitest';
import { checkBudget, languageScores, parsePercent, type Scored } from '../../src/compress/search/budget.ts';
import { paretoFront, paretoSvg, paretoTable } from '../../src/compress/search/pareto.ts';
import { searchClock } from '../../src/compress/search/run.ts';
import { type Outcome, type ScoredCandidate, searchBudget } from '../../src/compress/search/search.ts';
import { type Candidate, candidates, parseSpace } from '../../src/compress/search/space.ts';
import type { DatasetEvaluation } from '../../src/train/evaluate.ts';
import { encoderConfig } from '../../src/models/config.ts';

const teacherScores: Scored = {
  meanMacroF1: 0.6,
  tasks: [{ task: 'a', macroF1: 0.8 }, { task: 'b', macroF1: 0.4 }],
  languages: [{ lang: 'de', macroF1: 0.6 }, { lang: 'en', macroF1: 0.6 }],
};

const scored = (mean: number, a: number, b: number, de = 0.6, en = 0.6): Scored => ({
  meanMacroF1: mean, tasks: [{ task: 'a', macroF1: a }, { task: 'b', macroF1: b }], languages: [{ lang: 'de', macroF1: de }, { lang: 'en', macroF1: en }],
});

describe('budgets', () => {
  it('reads percentages with or without the sign and refuses the rest naming the flag', () => {
    expect(parsePercent('2.6%', '--max-degradation')).toBe(2.6);
    expect(parsePercent('4', '--per-task')).toBe(4);
    expect(parsePercent('.5%', '--per-task')).toBe(0.5);
    for (const bad of ['-1%', 'two', '2.6%%', '', '100']) {
      expect(() => parsePercent(bad, '--per-language'), bad).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--per-language' } }) as Error);
    }
  });

  it('checks the mean, every task and every language against the teacher, relative to its scores', () => {
    // Mean 0.588 is 2% below 0.6; task b 0.376 is 6% below 0.4 while a is level.
    const model = scored(0.588, 0.8, 0.376, 0.6, 0.57);
    expect(checkBudget(teacherScores, model, { mean: 2.6 })).toEqual({ within: true, over: [] });
    expect(checkBudget(teacherScores, model, { mean: 1.5 }).over).toEqual(['mean 2.00% (limit 1.50%)']);
    expect(checkBudget(teacherScores, model, { mean: 2.6, perTask: 4 }).over).toEqual(['b 6.00% (limit 4.00%)']);
    expect(checkBudget(teacherScores, model, { mean: 2.6, perLanguage: 4 }).over).toEqual(['en 5.00% (limit 4.00%)']);
    const missing = { ...model, languages: [{ lang: 'de', macroF1: 0.6 }] };
    expect(checkBudget(teacherScores, missing, { mean: 2.6, perLanguage: 4 }).over).toEqual(['language en not scored']);
  });

  it('scores a language by the mean over the tasks that have it', () => {
    const report = (task: string, langs: [string, number][]): unknown => ({ task, perLanguage: langs.map(([lang, macroF1]) => ({ lang, n: 1, macroF1, labels: 1 })) });
    const evaluation = { reports: [report('a', [['en', 0.8], ['de', 0.6]]), report('b', [['en', 0.4], ['fr', Number.NaN]])] } as unknown as DatasetEvaluation;
    expect(languageScores(evaluation)).toEqual([{ lang: 'de', macroF1: 0.6 }, { lang: 'en', macroF1: 0.6000000000000001 }]);
  });
});

const TEACHER = encoderConfig({ vocabSize: 100, hiddenSize: 64, numHiddenLayers: 4, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 40 });

describe('the space', () => {
  it('enumerates candidates named by their steps, the teacher\'s own shape never trained again', () => {
    const list = candidates(TEACHER, parseSpace({ layers: [1, 0.5], headsFfn: [1, 0.5], students: [{ layers: 0.5, hidden: 0.5 }], int8: [false, true], trimVocab: [false, true] }, 'test'));
    const ids = list.map((c) => c.id);
    expect(ids).toContain('int8');
    expect(ids).toContain('trim');
    expect(ids).toContain('trim.int8');
    expect(ids).not.toContain('');
    expect(ids).toContain('layers-2.train');
    expect(ids).toContain('layers-2.heads-2-ffn-64.trim.train.int8');
    expect(ids).toContain('heads-2-ffn-64.train');
    expect(ids).toContain('trim.student-2x32.train.int8'); // trimmed first: the projection reads fewer rows
    expect(new Set(ids).size).toBe(ids.length);
    // 4 structures × 2 trims × 2 forms, less the teacher as it is, + a student × 4.
    expect(list.length).toBe(4 * 4 - 1 + 4);
    const pruned = list.find((c) => c.id === 'layers-2.heads-2-ffn-64.train');
    expect(pruned?.shape.numHiddenLayers).toBe(2);
    expect(pruned?.steps.map((s) => s.step)).toEqual(['prune-layers', 'prune-heads-ffn', 'train']);
    expect(list.find((c) => c.id === 'trim.student-2x32.train')?.shape.hiddenSize).toBe(32);
    expect(list.find((c) => c.id === 'layers-2.trim.train')?.shapeKey).toBe(list.find((c) => c.id === 'layers-2.train')?.shapeKey);
  });

  it('trains a student with its own settings over the space\'s', () => {
    const list = candidates(TEACHER, parseSpace({ layers: [0.5], headsFfn: [1], students: [{ layers: 0.5, hidden: 0.5, settings: { lr: 5e-4 } }], int8: [false], trimVocab: [false], train: { epochs: 2, settings: { lr: 5e-5, batchSize: 32 } } }, 'test'));
    const settings = (id: string): unknown => list.find((c) => c.id === id)?.steps.find((s) => s.step === 'train');
    expect(settings('layers-2.train')).toMatchObject({ teacher: true, settings: { epochs: 2, lr: 5e-5, batchSize: 32 } });
    expect(settings('student-2x32.train')).toMatchObject({ teacher: true, settings: { epochs: 2, lr: 5e-4, batchSize: 32 } });
  });

  it('makes a student as its weights say, one timing for one shape, the name saying the weights unless default', () => {
    const list = candidates(TEACHER, parseSpace({ layers: [1], headsFfn: [1], students: [{ layers: 0.5, hidden: 0.5 }, { layers: 0.5, hidden: 0.5, weights: 'select' }], int8: [false], trimVocab: [false] }, 'test'));
    const svd = list.find((c) => c.id === 'student-2x32.train');
    const selected = list.find((c) => c.id === 'student-2x32-select.train');
    expect(selected?.steps[0]).toEqual({ step: 'init-student', name: 'student-2x32-select', layers: 2, hidden: 32, weights: 'select' });
    expect(svd?.steps[0]).toEqual({ step: 'init-student', name: 'student-2x32', layers: 2, hidden: 32 });
    expect(selected?.shapeKey).toBe(svd?.shapeKey);
    expect(selected?.shape).toEqual(svd?.shape);
    expect(() => parseSpace({ students: [{ layers: 0.5, hidden: 0.5, weights: 'svd' }] }, 's.yaml')).toThrow(expect.objectContaining({ where: { file: 's.yaml', field: 'students.0.weights' } }) as Error);
  });

  it('cuts a narrowed student from the teacher: layers, heads and FFN evenly to the hidden fraction, the hidden size in rounds', () => {
    const list = candidates(TEACHER, parseSpace({ layers: [1], headsFfn: [1], students: [], narrowed: [{ layers: 0.5, hidden: 0.5, rounds: 2, settings: { lr: 1e-4 } }], int8: [false], trimVocab: [false], train: { settings: { batchSize: 8 } } }, 'test'));
    const narrowed = list.find((c) => c.id.startsWith('layers-2.'));
    expect(narrowed?.id).toBe('layers-2.heads-2-ffn-64-even.hidden-32-r2.train');
    expect(narrowed?.steps[1]).toMatchObject({ step: 'prune-heads-ffn', heads: 2, ffn: 64, even: true });
    expect(narrowed?.steps[2]).toEqual({ step: 'prune-hidden', name: 'hidden-32-r2', keep: 32, method: 'activation', samples: 1000, rounds: 2, retrain: { batchSize: 8, lr: 1e-4, epochs: 1 } });
    expect(narrowed?.steps[3]).toMatchObject({ step: 'train', settings: { batchSize: 8, lr: 1e-4 } });
    expect(narrowed?.shape).toMatchObject({ numHiddenLayers: 2, hiddenSize: 32, numAttentionHeads: 2 });
  });

  it('refuses a bad space naming the field', () => {
    expect(() => parseSpace({ layers: [0] }, 's.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 's.yaml', field: 'layers.0' } }) as Error);
    expect(() => parseSpace({ heads: [0.5] }, 's.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', where: { file: 's.yaml' } }) as Error);
    expect(() => parseSpace({ train: { epochs: 0 } }, 's.yaml')).toThrow(expect.objectContaining({ where: { file: 's.yaml', field: 'train.epochs' } }) as Error);
  });
});

/** A toy where speed and quality are known functions of the candidate: quality falls as speed rises. */
function toy(): { list: Candidate[]; expected: (c: Candidate) => number; quality: Map<string, ScoredCandidate>; tried: string[] } {
  const list = candidates(TEACHER, parseSpace({ layers: [1, 0.75, 0.5, 0.25], headsFfn: [1], students: [], int8: [false, true], trimVocab: [false] }, 'toy'));
  const speed = (c: Candidate): number => (4 / c.shape.numHiddenLayers) * (c.int8 ? 2.5 : 1);
  // Degradation: 1% per layer removed, +0.5% for int8; task b suffers twice as much as a.
  const quality = new Map(list.map((c) => {
    const d = (4 - c.shape.numHiddenLayers) + (c.int8 ? 0.5 : 0);
    const a = 0.8 * (1 - (d * (2 / 3)) / 100);
    const b = 0.4 * (1 - (d * (4 / 3)) / 100);
    const mean = (a + b) / 2;
    return [c.id, { meanMacroF1: mean, tasks: [{ task: 'a', macroF1: a }, { task: 'b', macroF1: b }], languages: teacherScores.languages, speedup: speed(c) * 0.9, degradation: (100 * (0.6 - mean)) / 0.6 }];
  }));
  return { list, expected: speed, quality, tried: [] };
}

describe('the search', () => {
  it('answers with the fastest candidate within the budget and never makes a slower one', async () => {
    const t = toy();
    const hooks = { expectedSpeedup: t.expected, score: async (c: Candidate) => { t.tried.push(c.id); return t.quality.get(c.id) as ScoredCandidate; } };
    // Mean degradation = 8/9 × d (a weighs 0.8, b 0.4): layers-3.train.int8 is d 1.5 → 1.33%, layers-2.train d 2 → 1.78%.
    const result = await searchBudget(t.list, teacherScores, { mean: 1.5 }, hooks);
    expect(result.answer).toBe('layers-3.train.int8');
    // The teacher int8 (nothing to train) first, within the budget: the first answer in hand. Then the trained ones
    // fastest first: the faster were tried and failed; nothing slower than the answer was made.
    expect(result.first).toBe('int8');
    expect(t.tried).toEqual(['int8', 'layers-1.train.int8', 'layers-2.train.int8', 'layers-1.train', 'layers-3.train.int8']);
    expect(result.outcomes.filter((o) => o.status === 'not tried').map((o) => o.id).sort()).toEqual(['layers-2.train', 'layers-3.train'].sort());
    // A per-task limit binds on b (4/3 × d): d ≤ 1 is only layers-3.train (b −1.33%) or the teacher int8 (d 0.5).
    t.tried.length = 0;
    const strict = await searchBudget(t.list, teacherScores, { mean: 1.5, perTask: 1 }, hooks);
    expect(strict.answer).toBe('int8');
    // layers-3.train (1.33×) is expected slower than the int8 teacher (2.5×): never made.
    expect(t.tried).not.toContain('layers-3.train');
  });

  it('reports the search so far after every candidate, and goes straight to the trained ones when the untrained fail', async () => {
    const t = toy();
    const sofar: (string | null)[] = [];
    const hooks = { expectedSpeedup: t.expected, score: async (c: Candidate) => { t.tried.push(c.id); return t.quality.get(c.id) as ScoredCandidate; }, progress: async (r: { answer: string | null }) => { sofar.push(r.answer); } };
    // A budget of 0.4%: the int8 teacher (0.44%) is over; only a trained candidate could be within, and none is.
    const result = await searchBudget(t.list, teacherScores, { mean: 0.4 }, hooks);
    expect(result).toMatchObject({ answer: null, first: null });
    expect(sofar.length).toBe(t.list.length);
    expect(t.tried[0]).toBe('int8');
    expect(t.tried.length).toBe(t.list.length);
  });

  it('scores everything when exhaustive and answers with the fastest measured', async () => {
    const t = toy();
    const result = await searchBudget(t.list, teacherScores, { mean: 1.5 }, { expectedSpeedup: t.expected, score: async (c) => { t.tried.push(c.id); return t.quality.get(c.id) as ScoredCandidate; } }, true);
    expect(t.tried.length).toBe(t.list.length);
    expect(result.answer).toBe('layers-3.train.int8');
    expect(result.outcomes.every((o) => o.status !== 'not tried')).toBe(true);
  });
});

describe("the search's clock", () => {
  const tried = (id: string): Outcome => ({ id, expected: 2, status: 'over', scored: { ...teacherScores, speedup: 2, degradation: 5 }, check: { within: false, over: [] } });
  const skipped = (id: string): Outcome => ({ id, expected: 1, status: 'not tried', why: 'slower' });

  it('adds the teacher, the timing and each candidate tried up to each one; a candidate not tried adds nothing', () => {
    const outcomes = [tried('a'), skipped('b'), tried('c')];
    expect(searchClock(outcomes, { teacher: 60, timing: 30, a: 100, c: 20 })).toEqual([190, 190, 210]);
  });

  it('knows no time from a part not recorded onward (a search begun before the clock was kept)', () => {
    expect(searchClock([tried('a'), tried('c')], { teacher: 60, timing: 30, c: 20 })).toEqual([null, null]);
    expect(searchClock([tried('a')], { a: 5 })).toEqual([null]);
  });
});

describe('the Pareto front', () => {
  const points = [
    { id: 'teacher', speedup: 1, degradation: 0, within: true },
    { id: 'a', speedup: 2, degradation: 1, within: true },
    { id: 'b', speedup: 2, degradation: 1.5, within: true }, // dominated by a
    { id: 'c', speedup: 8, degradation: 3, within: false },
    { id: 'd', speedup: 4, degradation: 4, within: false }, // dominated by c
  ];

  it('keeps the points nothing beats on both axes', () => {
    expect(paretoFront(points).map((p) => p.id)).toEqual(['teacher', 'a', 'c']);
    expect(paretoTable(points)).toContain('| 2 | a | 2.00× | 1.00 | yes | ● |');
    expect(paretoTable(points)).toContain('| 3 | b | 2.00× | 1.50 | yes |  |');
  });

  it('draws every point, the front and the budget', () => {
    const svg = paretoSvg(points, 2.6, 'a <test>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)?.length).toBe(5);
    expect(svg.match(/<polyline [^>]*points="([^"]*)"/)?.[1]?.split(' ').length).toBe(3);
    expect(svg).toContain('budget 2.6%');
    expect(svg).toContain('a &lt;test&gt;');
  });
});

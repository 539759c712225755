// The layer mapping of intermediate-layer transfer (--match) and its default, the plan checked against both
// encoders, and the configuration's refusals of intermediate settings that would change nothing.
import { describe, expect, it } from 'vitest';
import { planIntermediate } from '../../../src/compress/distill/intermediate.ts';
import { parseMatchFlag, resolveMatches, uniformMatches } from '../../../src/compress/distill/match-flag.ts';
import type { EncoderConfig } from '../../../src/models/config.ts';
import { parseTrainConfig } from '../../../src/train/config.ts';

const encoder = (layers: number, hidden: number, heads: number): EncoderConfig => ({
  vocabSize: 50, hiddenSize: hidden, numHiddenLayers: layers, numAttentionHeads: heads, intermediateSize: 2 * hidden, maxPositionEmbeddings: 40,
  typeVocabSize: 1, layerNormEps: 1e-12, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1,
} as EncoderConfig);

describe('--match', () => {
  it('reads comma-separated student:teacher pairs in order, spaces allowed', () => {
    expect(parseMatchFlag('1:4,2:8, 3:12')).toEqual([{ student: 1, teacher: 4 }, { student: 2, teacher: 8 }, { student: 3, teacher: 12 }]);
    expect(parseMatchFlag('0:0')).toEqual([{ student: 0, teacher: 0 }]);
  });

  it.each(['1-4', '1:4,', '1:4;2:8', 'a:1', '1:-2', '1:2:3', '', '1.5:3'])('refuses the syntax of %j, naming the flag', (text) => {
    expect(() => parseMatchFlag(text)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--match' } }) as Error);
  });

  it('refuses a layer out of either encoder\'s range and a student layer matched twice', () => {
    const depths = { studentLayers: 3, teacherLayers: 12 };
    expect(resolveMatches('1:4,2:8,3:12', depths)).toHaveLength(3);
    expect(() => resolveMatches('4:12', depths)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--match' }, received: '4:12', problem: expect.stringContaining('the student has no layer 4') }) as Error);
    expect(() => resolveMatches('1:13', depths)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', problem: expect.stringContaining('the teacher has no layer 13') }) as Error);
    expect(() => resolveMatches('1:4,1:8', depths)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', problem: expect.stringContaining('student layer 1 is matched twice') }) as Error);
  });

  it('defaults to student layer i ↦ teacher layer round(i·L_t/L_s)', () => {
    expect(uniformMatches(3, 12)).toEqual([{ student: 1, teacher: 4 }, { student: 2, teacher: 8 }, { student: 3, teacher: 12 }]);
    expect(uniformMatches(4, 6).map((m) => m.teacher)).toEqual([2, 3, 5, 6]); // 1.5 → 2, 4.5 → 5: Math.round
    expect(uniformMatches(2, 2)).toEqual([{ student: 1, teacher: 1 }, { student: 2, teacher: 2 }]);
    expect(resolveMatches(undefined, { studentLayers: 1, teacherLayers: 2 })).toEqual([{ student: 1, teacher: 2 }]);
  });
});

describe('the intermediate plan', () => {
  const student = encoder(2, 8, 2);
  const teacher = encoder(4, 12, 3);
  const settings = { match: undefined, hiddenWeight: 0, relationWeight: 0, relationHeads: undefined };

  it('keeps the pairs of the terms whose weight is above 0, the embeddings for the hidden states only', () => {
    const hidden = planIntermediate({ ...settings, match: '0:0,2:4', hiddenWeight: 1 }, student, teacher);
    expect(hidden.hidden).toEqual([{ student: 0, teacher: 0 }, { student: 2, teacher: 4 }]);
    expect(hidden.relation).toEqual([]);
    const both = planIntermediate({ ...settings, match: '0:0,2:4', hiddenWeight: 1, relationWeight: 0.5, relationHeads: 4 }, student, teacher);
    expect(both.relation).toEqual([{ student: 2, teacher: 4 }]);
    expect(both.relationHeads).toBe(4);
  });

  it('refuses relation heads that split no layer evenly, the default (the teacher\'s heads) included, and a relation pair on the embeddings', () => {
    // The student's attention size is 8: the teacher's 3 heads cannot split it.
    expect(() => planIntermediate({ ...settings, relationWeight: 1 }, student, teacher)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--relation-heads' }, hint: expect.stringContaining('the default') }) as Error);
    expect(() => planIntermediate({ ...settings, relationWeight: 1, relationHeads: 8 }, student, teacher)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--relation-heads' } }) as Error);
    expect(planIntermediate({ ...settings, relationWeight: 1, relationHeads: 4 }, student, teacher).relation).toEqual([{ student: 1, teacher: 2 }, { student: 2, teacher: 4 }]);
    expect(() => planIntermediate({ ...settings, match: '1:0', relationWeight: 1, relationHeads: 4 }, student, teacher)).toThrowError(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--match' } }) as Error);
  });
});

describe('the configuration', () => {
  const base = { train: 'train.jsonl' };
  const teacherModel = 'teacher';

  it('defaults the weights to 0 and takes the intermediate settings with a teacher', () => {
    const plain = parseTrainConfig({ ...base, teacherModel }, 'test');
    expect([plain.hiddenWeight, plain.relationWeight, plain.match, plain.relationHeads]).toEqual([0, 0, undefined, undefined]);
    const full = parseTrainConfig({ ...base, teacherModel, match: '1:2', hiddenWeight: 1, relationWeight: 0.5, relationHeads: 4 }, 'test');
    expect([full.match, full.hiddenWeight, full.relationWeight, full.relationHeads]).toEqual(['1:2', 1, 0.5, 4]);
  });

  it.each([
    ['a weight without a teacher', { hiddenWeight: 1 }, 'hiddenWeight'],
    ['a relation weight without a teacher', { relationWeight: 1 }, 'relationWeight'],
    ['a mapping without a weight', { teacherModel, match: '1:2' }, 'match'],
    ['relation heads without the relation term', { teacherModel, hiddenWeight: 1, relationHeads: 2 }, 'relationHeads'],
    ['a negative weight', { teacherModel, hiddenWeight: -1 }, 'hiddenWeight'],
  ])('refuses %s', (_, fields, field) => {
    expect(() => parseTrainConfig({ ...base, ...fields }, 'test')).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID', where: expect.objectContaining({ field }) as unknown }) as Error);
  });
});

// MiniLMv2's attention relation KL (src/compress/distill/relation-kl.ts) against a naive reference, on raw vectors
// and on a tiny student encoder's query, key and value projections against a wider teacher with a pruned head.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { teacherProjectionInput } from '../../../src/compress/distill/names.ts';
import { ATTENTION_RELATIONS, attentionRelationLoss, relationKl } from '../../../src/compress/distill/relation-kl.ts';
import { XlmtError } from '../../../src/errors/index.ts';
import { encoderStates } from '../../../src/models/encoder.ts';
import { initParams } from '../../../src/models/init.ts';
import { encoderInputs } from '../../../src/models/multitask.ts';
import { mulberry32 } from '../../autodiff/gradcheck.ts';
import { bySequence, f32Rows, paddedBatch, paramRows, randomRows, rowsOf, runOnce, studentConfig, teacherConfig } from './encoders.ts';
import { type Matrix, relationKlReference } from './reference.ts';

const SEQ = 4;
const MASK = [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]];

/** relationKl over inputs: student [batch*seq, 8], teacher [batch*seq, 12]. */
async function rawKl(student: Matrix, teacher: Matrix, relationHeads: number, mask = MASK): Promise<number> {
  const g = new GraphBuilder('relation_kl');
  const attentionMask = g.input('attention_mask', 'float32', ['batch', 'seq']);
  g.output('loss', relationKl(g, g.input('student', 'float32', ['batch*seq', student[0]?.length ?? 0]), g.input('teacher', 'float32', ['batch*seq', teacher[0]?.length ?? 0]), attentionMask, relationHeads));
  const out = await runOnce(g.build(), { student: f32Rows(student), teacher: f32Rows(teacher), attention_mask: f32Rows(mask) });
  return Number(out.loss?.data[0]);
}

describe('attention relation KL', () => {
  const rng = mulberry32(41);
  const rows = MASK.flat().length;
  const student = randomRows(rng, rows, 8).map((r) => r.map((v) => 2 * v));
  const teacher = randomRows(rng, rows, 12).map((r) => r.map((v) => 3 * v));

  for (const relationHeads of [1, 2, 4]) {
    it(`matches the reference with ${relationHeads} relation heads (student 8 wide, teacher 12)`, async () => {
      const loss = await rawKl(student, teacher, relationHeads);
      const expected = relationKlReference(bySequence(student, SEQ), bySequence(teacher, SEQ), MASK, relationHeads);
      expect(expected).toBeGreaterThan(0.01);
      expect(Math.abs(loss - expected)).toBeLessThan(1e-5 * expected);
    });
  }

  it('is 0 when the student\'s vectors are the teacher\'s', async () => {
    expect(await rawKl(teacher, teacher, 3)).toBeLessThan(1e-7);
  });

  it('ignores padded positions, as queries and as keys', async () => {
    const padded = (m: Matrix): Matrix => m.map((row, t) => (MASK.flat()[t] ? row : row.map(() => 50)));
    expect(await rawKl(padded(student), padded(teacher), 2)).toBeCloseTo(await rawKl(student, teacher, 2), 6);
  });

  it('refuses a number of relation heads that does not divide both sizes', () => {
    for (const relationHeads of [3, 0, 1.5]) {
      const g = new GraphBuilder('bad');
      const attentionMask = g.input('attention_mask', 'float32', ['batch', 'seq']);
      let caught: unknown;
      try {
        relationKl(g, g.input('student', 'float32', ['batch*seq', 8]), g.input('teacher', 'float32', ['batch*seq', 12]), attentionMask, relationHeads);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(XlmtError);
      expect((caught as XlmtError).where?.field).toBe('relationHeads');
    }
  });
});

describe('attention relation transfer from a student encoder', () => {
  const matches = [{ student: 1, teacher: 2 }, { student: 2, teacher: 3 }];

  function studentGraph(): GraphBuilder {
    const g = new GraphBuilder('student');
    const inputs = encoderInputs(g);
    const states = encoderStates(g, studentConfig, inputs, { training: false });
    g.output('loss', attentionRelationLoss(g, { config: studentConfig, states }, teacherConfig, matches, inputs.attentionMask, { relationHeads: 4 }));
    states.hiddenStates.forEach((h, i) => g.output(`hidden:${i}`, h));
    states.projections.forEach((p, i) => { for (const r of ATTENTION_RELATIONS) g.output(`${r}:${i + 1}`, p[r]); });
    return g;
  }

  it('declares the teacher\'s query, key and value of each matched layer at that layer\'s width', () => {
    const inputs = studentGraph().build().inputs.filter((v) => v.name.startsWith('teacher_'));
    // Teacher layer 2 lost one of its three heads of 4: its vectors are 8 wide.
    expect(inputs.map((v) => [v.name, v.shape])).toEqual([
      ...ATTENTION_RELATIONS.map((r) => [teacherProjectionInput(r, 2), ['batch*seq', 8]]),
      ...ATTENTION_RELATIONS.map((r) => [teacherProjectionInput(r, 3), ['batch*seq', 12]]),
    ]);
  });

  it('exposes each layer\'s query projection before scaling: hidden·W_qᵀ + b_q', async () => {
    const { feeds, mask } = paddedBatch([4, 2], SEQ, mulberry32(43));
    const graph = studentGraph().build();
    const params = initParams(graph, 3, 0.3);
    const rows = mask.flat().length;
    for (const r of ATTENTION_RELATIONS) for (const layer of [2, 3]) feeds[teacherProjectionInput(r, layer)] = f32Rows(randomRows(mulberry32(layer), rows, layer === 2 ? 8 : 12));
    const out = await runOnce(graph, feeds, params);
    const hidden = rowsOf(out['hidden:1'], 'hidden:1');
    const weight = paramRows(params, 'encoder.layer.1.attention.self.query.weight');
    const bias = paramRows(params, 'encoder.layer.1.attention.self.query.bias')[0] as number[];
    const expected = hidden.map((x) => weight.map((row, j) => row.reduce((acc, w, i) => acc + w * (x[i] as number), bias[j] as number)));
    const query = rowsOf(out['query:2'], 'query:2');
    query.forEach((row, t) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[t]?.[j] as number, 5)));
  });

  it('is the mean over matched layers of the q-q, k-k and v-v relation KLs', async () => {
    const rng = mulberry32(47);
    const { feeds, mask } = paddedBatch([4, 2, 3], SEQ, rng);
    const rows = mask.flat().length;
    const teacher = new Map<string, Matrix>();
    for (const m of matches) {
      for (const r of ATTENTION_RELATIONS) {
        const vectors = randomRows(rng, rows, m.teacher === 2 ? 8 : 12).map((row) => row.map((v) => 3 * v));
        teacher.set(teacherProjectionInput(r, m.teacher), vectors);
        feeds[teacherProjectionInput(r, m.teacher)] = f32Rows(vectors);
      }
    }
    const graph = studentGraph().build();
    const out = await runOnce(graph, feeds, initParams(graph, 5, 0.5));
    const expected = matches.reduce((sum, m) => sum + ATTENTION_RELATIONS.reduce((inner, r) => inner + relationKlReference(
      bySequence(rowsOf(out[`${r}:${m.student}`], `${r}:${m.student}`), SEQ),
      bySequence(teacher.get(teacherProjectionInput(r, m.teacher)) as Matrix, SEQ),
      mask,
      4,
    ), 0), 0) / matches.length;
    const loss = Number(out.loss?.data[0]);
    expect(expected).toBeGreaterThan(0.01);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5 * expected);
  });

  it('refuses the embeddings as a layer (they have no attention)', () => {
    const g = new GraphBuilder('bad');
    const inputs = encoderInputs(g);
    const states = encoderStates(g, studentConfig, inputs, { training: false });
    expect(() => attentionRelationLoss(g, { config: studentConfig, states }, teacherConfig, [{ student: 0, teacher: 1 }], inputs.attentionMask, { relationHeads: 2 }))
      .toThrow(/no layer 0/);
  });
});

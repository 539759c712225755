// Hidden-state transfer through a projection (src/compress/distill/hidden-mse.ts) against a naive reference, on
// raw inputs and on a tiny student encoder whose layers are matched to a wider teacher's.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { hiddenStateTransferLoss, projectedHiddenMse } from '../../../src/compress/distill/hidden-mse.ts';
import { isDistillationParam, projectionParam, teacherHiddenInput } from '../../../src/compress/distill/names.ts';
import { XlmtError } from '../../../src/errors/index.ts';
import type { TensorData } from '../../../src/ir/tensor.ts';
import { encoderStates } from '../../../src/models/encoder.ts';
import { initParams } from '../../../src/models/init.ts';
import { encoderInputs } from '../../../src/models/multitask.ts';
import { mulberry32 } from '../../autodiff/gradcheck.ts';
import { f32Rows, paddedBatch, paramRows, randomRows, rowsOf, runOnce, studentConfig, teacherConfig } from './encoders.ts';
import { hiddenMseReference, type Matrix } from './reference.ts';

/** projectedHiddenMse over inputs: student [rows, 5], teacher [rows, 7], weight [7, 5], bias [7]. */
async function rawMse(student: Matrix, teacher: Matrix, mask: number[][], weight: Matrix, bias: number[]): Promise<number> {
  const g = new GraphBuilder('hidden_mse');
  const attentionMask = g.input('attention_mask', 'float32', ['batch', 'seq']);
  const projection = { weight: g.input('weight', 'float32', [7, 5]), bias: g.input('bias', 'float32', [7]) };
  g.output('loss', projectedHiddenMse(g, g.input('student', 'float32', ['batch*seq', 5]), g.input('teacher', 'float32', ['batch*seq', 7]), attentionMask, projection));
  const feeds: Record<string, TensorData> = {
    student: f32Rows(student),
    teacher: f32Rows(teacher),
    weight: f32Rows(weight),
    bias: { dtype: 'float32', shape: [7], data: Float32Array.from(bias) },
    attention_mask: f32Rows(mask),
  };
  return Number((await runOnce(g.build(), feeds)).loss?.data[0]);
}

describe('hidden-state MSE through a projection', () => {
  const rng = mulberry32(21);
  const mask = [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]];
  const rows = mask.flat().length;
  const student = randomRows(rng, rows, 5);
  const teacher = randomRows(rng, rows, 7);
  const weight = randomRows(rng, 7, 5);
  const bias = randomRows(rng, 1, 7)[0] as number[];

  it('matches the reference, averaged over real tokens and the teacher\'s dimensions', async () => {
    const loss = await rawMse(student, teacher, mask, weight, bias);
    const expected = hiddenMseReference(student, teacher, mask.flat(), weight, bias);
    expect(expected).toBeGreaterThan(0.1);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-6 * expected);
  });

  it('ignores padded tokens on both sides', async () => {
    const padded = (m: Matrix): Matrix => m.map((row, t) => (mask.flat()[t] ? row : row.map(() => 100)));
    expect(await rawMse(padded(student), padded(teacher), mask, weight, bias)).toBe(await rawMse(student, teacher, mask, weight, bias));
  });

  it('is 0 when the projected student equals the teacher', async () => {
    const exact = student.map((s) => weight.map((row, j) => Math.fround(row.reduce((acc, w, i) => acc + w * (s[i] as number), bias[j] as number))));
    expect(await rawMse(student, exact, mask, weight, bias)).toBeLessThan(1e-12);
  });
});

describe('hidden-state transfer from a student encoder', () => {
  const matches = [{ student: 0, teacher: 0 }, { student: 1, teacher: 3 }, { student: 2, teacher: 3 }];

  function studentGraph(): GraphBuilder {
    const g = new GraphBuilder('student');
    const inputs = encoderInputs(g);
    const states = encoderStates(g, studentConfig, inputs, { training: false });
    g.output('loss', hiddenStateTransferLoss(g, { config: studentConfig, states }, teacherConfig, matches, inputs.attentionMask));
    states.hiddenStates.forEach((h, i) => g.output(`hidden:${i}`, h));
    return g;
  }

  it('adds one projection per matched student layer, under the distillation prefix, and one input per teacher layer', () => {
    const graph = studentGraph().build();
    const projections = graph.params.filter((p) => isDistillationParam(p.name));
    expect(projections.map((p) => [p.name, p.shape])).toEqual([0, 1, 2].flatMap((layer) => [
      [projectionParam(layer, 'weight'), [12, 8]],
      [projectionParam(layer, 'bias'), [12]],
    ]));
    expect(projections.map((p) => p.name)).toEqual(expect.arrayContaining(['distill.projection.1.weight', 'distill.projection.2.bias']));
    expect(graph.params.filter((p) => !isDistillationParam(p.name)).every((p) => !p.name.includes('projection'))).toBe(true);
    expect(graph.inputs.map((v) => v.name).filter((n) => n.startsWith('teacher_'))).toEqual([teacherHiddenInput(0), teacherHiddenInput(3)]);
  });

  it('is the mean over matches of each layer\'s projected MSE', async () => {
    const rng = mulberry32(33);
    const seq = 5;
    const { feeds, mask } = paddedBatch([5, 3, 1], seq, rng);
    const rows = mask.flat().length;
    const teacher = new Map([0, 3].map((layer) => [layer, randomRows(rng, rows, 12)]));
    for (const [layer, states] of teacher) feeds[teacherHiddenInput(layer)] = f32Rows(states);
    const graph = studentGraph().build();
    const params = initParams(graph, 7, 0.3);
    const out = await runOnce(graph, feeds, params);
    const expected = matches.reduce((sum, m) => sum + hiddenMseReference(
      rowsOf(out[`hidden:${m.student}`], `hidden:${m.student}`),
      teacher.get(m.teacher) as Matrix,
      mask.flat(),
      paramRows(params, projectionParam(m.student, 'weight')),
      paramRows(params, projectionParam(m.student, 'bias'))[0] as number[],
    ), 0) / matches.length;
    const loss = Number(out.loss?.data[0]);
    expect(expected).toBeGreaterThan(0.1);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5 * expected);
  });

  it('refuses a layer out of range, a student layer matched twice and an empty mapping', () => {
    const attempt = (m: { student: number; teacher: number }[]): unknown => {
      const g = new GraphBuilder('bad');
      const inputs = encoderInputs(g);
      const states = encoderStates(g, studentConfig, inputs, { training: false });
      try {
        hiddenStateTransferLoss(g, { config: studentConfig, states }, teacherConfig, m, inputs.attentionMask);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const bad of [[{ student: 3, teacher: 1 }], [{ student: 1, teacher: 4 }], [{ student: 1, teacher: 1 }, { student: 1, teacher: 2 }], []]) {
      const e = attempt(bad);
      expect(e).toBeInstanceOf(XlmtError);
      expect((e as XlmtError).code).toBe('BAD_ARGUMENT');
      expect((e as XlmtError).where?.field).toBe('matches');
    }
  });
});

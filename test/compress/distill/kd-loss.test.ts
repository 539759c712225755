// Eq. 2 (src/compress/distill/kd-loss.ts) against a loop-by-loop float64 reference, against multiTaskLoss at α = 0,
// and at values known in closed form.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { distillationLoss, type DistillationOptions } from '../../../src/compress/distill/kd-loss.ts';
import { teacherLogitsInput, teacherMaskInput } from '../../../src/compress/distill/names.ts';
import { XlmtError } from '../../../src/errors/index.ts';
import type { Value } from '../../../src/ir/graph.ts';
import type { TensorData } from '../../../src/ir/tensor.ts';
import type { TaskHead } from '../../../src/models/heads.ts';
import { labelInput, labelMaskInput, multiTaskLoss } from '../../../src/models/multitask.ts';
import { Session } from '../../../src/runtime/session.ts';
import { mulberry32, type Rng } from '../../autodiff/gradcheck.ts';
import { eq2Reference, type Matrix, type TaskData } from './reference.ts';

const sentiment: TaskHead = { name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] };
const emotion: TaskHead = { name: 'emotion', type: 'multilabel', labels: ['anger', 'joy', 'fear', 'trust'] };
const tasks = [sentiment, emotion];

const studentInput = (task: string): string => `student:${task}`;

/** The loss graph over student logits fed as inputs (no encoder: the loss alone is under test). */
function lossGraph(heads: readonly TaskHead[], build: (g: GraphBuilder, logits: ReadonlyMap<string, Value>) => Value): GraphBuilder {
  const g = new GraphBuilder('kd_loss');
  const logits = new Map(heads.map((t) => [t.name, g.input(studentInput(t.name), 'float32', ['batch', t.labels.length])]));
  g.output('loss', build(g, logits));
  return g;
}

async function run(g: GraphBuilder, feeds: Record<string, TensorData>): Promise<number> {
  const session = await Session.create(g.build(), { threads: 1 });
  try {
    return Number((await session.run(feeds)).loss?.data[0]);
  } finally {
    await session.release();
  }
}

const f32 = (rows: Matrix | readonly number[]): TensorData => {
  const matrix = rows.every((r) => Array.isArray(r));
  const flat = (rows as readonly (number | number[])[]).flat();
  return { dtype: 'float32', shape: matrix ? [rows.length, (rows[0] as number[]).length] : [rows.length], data: Float32Array.from(flat) };
};

function feedsOf(data: ReadonlyMap<string, TaskData>): Record<string, TensorData> {
  const feeds: Record<string, TensorData> = {};
  for (const [task, d] of data) {
    feeds[studentInput(task)] = f32(d.student);
    feeds[labelInput(task)] = f32(d.labels);
    feeds[labelMaskInput(task)] = f32(d.labelMask);
    feeds[teacherLogitsInput(task)] = f32(d.teacher);
    feeds[teacherMaskInput(task)] = f32(d.teacherMask);
  }
  return feeds;
}

/** Values as float32 holds them, so the float64 reference sees exactly what the graph sees. */
const float32 = (x: number): number => Math.fround(x);
const randomMatrix = (rng: Rng, rows: number, cols: number, scale: number): Matrix =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => float32(scale * (2 * rng() - 1))));

/**
 * Random logits and labels, masks mixed so that each of gold only, teacher only, both and neither occurs for
 * each task and across tasks (example 5 is labeled by nothing at all).
 */
function randomData(rng: Rng): Map<string, TaskData> {
  const batch = 6;
  const masks: Record<string, { gold: number[]; teacher: number[] }> = {
    sentiment: { gold: [1, 0, 1, 0, 1, 0], teacher: [1, 1, 0, 0, 0, 0] },
    emotion: { gold: [0, 1, 1, 0, 0, 0], teacher: [1, 0, 0, 1, 1, 0] },
  };
  return new Map(tasks.map((t) => {
    const size = t.labels.length;
    const labels = t.type === 'multiclass'
      ? Array.from({ length: batch }, () => { const row = new Array<number>(size).fill(0); row[Math.floor(rng() * size)] = 1; return row; })
      : Array.from({ length: batch }, () => Array.from({ length: size }, () => (rng() < 0.4 ? 1 : 0)));
    const mask = masks[t.name] as { gold: number[]; teacher: number[] };
    return [t.name, { student: randomMatrix(rng, batch, size, 3), labels, labelMask: mask.gold, teacher: randomMatrix(rng, batch, size, 4), teacherMask: mask.teacher }];
  }));
}

describe('Eq. 2 matches a naive reference', () => {
  for (const temperature of [1, 2, 4]) {
    for (const alpha of [0, 0.5, 1]) {
      it(`multiclass and multilabel, mixed gold and teacher masks, F = ${temperature}, α = ${alpha}`, async () => {
        const data = randomData(mulberry32(17 * temperature + 100 * alpha));
        const loss = await run(lossGraph(tasks, (g, logits) => distillationLoss(g, tasks, logits, { temperature, alpha })), feedsOf(data));
        const expected = eq2Reference(tasks, data, temperature, alpha);
        expect(expected).toBeGreaterThan(0.1);
        expect(Math.abs(loss - expected)).toBeLessThan(2e-6 * Math.abs(expected));
      });
    }
  }

  it('each task on its own', async () => {
    const data = randomData(mulberry32(3));
    for (const task of tasks) {
      const loss = await run(lossGraph([task], (g, logits) => distillationLoss(g, [task], logits, { temperature: 3, alpha: 0.7 })), feedsOf(new Map([[task.name, data.get(task.name) as TaskData]])));
      const expected = eq2Reference([task], data, 3, 0.7);
      expect(Math.abs(loss - expected)).toBeLessThan(2e-6 * Math.abs(expected));
    }
  });
});

describe('Eq. 2 edge cases', () => {
  it('α = 0 is the multi-task loss (Eq. 1), teacher-only examples included in the batch', async () => {
    const data = randomData(mulberry32(5));
    const feeds = feedsOf(data);
    const kd = await run(lossGraph(tasks, (g, logits) => distillationLoss(g, tasks, logits, { temperature: 2, alpha: 0 })), feeds);
    const eq1 = await run(lossGraph(tasks, (g, logits) => multiTaskLoss(g, tasks, logits)), feeds);
    expect(kd).toBe(eq1);
  });

  it('declares the teacher\'s inputs only when α > 0', () => {
    const names = (alpha: number): string[] => lossGraph(tasks, (g, logits) => distillationLoss(g, tasks, logits, { temperature: 1, alpha })).build().inputs.map((v) => v.name);
    expect(names(0)).not.toContain(teacherLogitsInput('sentiment'));
    expect(names(0.5)).toEqual(expect.arrayContaining(tasks.flatMap((t) => [teacherLogitsInput(t.name), teacherMaskInput(t.name), labelInput(t.name), labelMaskInput(t.name)])));
  });

  it('an example with neither gold label nor teacher score contributes nothing, to the sum or to N', async () => {
    const data = randomData(mulberry32(9));
    const options: DistillationOptions = { temperature: 2, alpha: 0.5 };
    const graph = (): GraphBuilder => lossGraph(tasks, (g, logits) => distillationLoss(g, tasks, logits, options));
    const withIt = await run(graph(), feedsOf(data)); // example 5 is labeled by nothing
    const dropLast = <T>(rows: readonly T[]): T[] => rows.slice(0, -1);
    const without = new Map([...data].map(([task, d]) => [task, {
      student: dropLast(d.student), labels: dropLast(d.labels), labelMask: dropLast(d.labelMask), teacher: dropLast(d.teacher), teacherMask: dropLast(d.teacherMask),
    }]));
    expect(await run(graph(), feedsOf(without))).toBeCloseTo(withIt, 6);
    const wild = new Map([...data].map(([task, d]) => [task, { ...d, student: d.student.map((row, b) => (b === 5 ? row.map(() => 50) : row)) }]));
    expect(await run(graph(), feedsOf(wild))).toBe(withIt);
  });

  it('is 0 for a batch labeled by nothing, not NaN', async () => {
    const data = new Map([...randomData(mulberry32(11))].map(([task, d]) => [task, { ...d, labelMask: d.labelMask.map(() => 0), teacherMask: d.teacherMask.map(() => 0) }]));
    expect(await run(lossGraph(tasks, (g, logits) => distillationLoss(g, tasks, logits, { temperature: 2, alpha: 1 })), feedsOf(data))).toBe(0);
  });
});

describe('Eq. 2 at known values (one-hot teachers)', () => {
  // Teacher logits 0 and −10⁴: softmax(t/F) is exactly one-hot in float32 for F ≤ 10, so KL(q̂ ‖ p̂) = −log p̂[label].
  const hot = (label: number, size: number): number[] => Array.from({ length: size }, (_, k) => (k === label ? 0 : -1e4));
  const oneHot = (label: number, size: number): number[] => Array.from({ length: size }, (_, k) => (k === label ? 1 : 0));

  it('multiclass, F = 1, α = 1: cross-entropy plus −log p̂ of the teacher\'s label', async () => {
    const data = new Map([[sentiment.name, {
      student: [[0, 0, 0], [0, Math.log(2), 0], [0, 0, 0]], // p = (⅓, ⅓, ⅓), (¼, ½, ¼), (⅓, ⅓, ⅓)
      labels: [oneHot(0, 3), oneHot(1, 3), oneHot(0, 3)],
      labelMask: [1, 1, 0],
      teacher: [hot(0, 3), hot(1, 3), hot(2, 3)],
      teacherMask: [1, 1, 1],
    }]]);
    const loss = await run(lossGraph([sentiment], (g, logits) => distillationLoss(g, [sentiment], logits, { temperature: 1, alpha: 1 })), feedsOf(data));
    // (ln 3 + ln 3) + (ln 2 + ln 2) + ln 3, over 3 examples
    expect(loss).toBeCloseTo((3 * Math.log(3) + 2 * Math.log(2)) / 3, 6);
  });

  it('multiclass, F = 2, α = 1: the teacher\'s term scaled by F² = 4', async () => {
    const data = new Map([[sentiment.name, { student: [[0, 0, 0]], labels: [oneHot(2, 3)], labelMask: [1], teacher: [hot(1, 3)], teacherMask: [1] }]]);
    const loss = await run(lossGraph([sentiment], (g, logits) => distillationLoss(g, [sentiment], logits, { temperature: 2, alpha: 1 })), feedsOf(data));
    expect(loss).toBeCloseTo(5 * Math.log(3), 6);
  });

  it('multilabel, F = 1, α = 1: ln 2 per label and term at a student undecided everywhere', async () => {
    const data = new Map([[emotion.name, {
      student: [[0, 0, 0, 0], [5, -5, 5, -5], [0, 0, 0, 0]],
      labels: [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
      labelMask: [1, 0, 0],
      teacher: [[1e4, -1e4, 1e4, -1e4], [0, 0, 0, 0], [-1e4, 1e4, -1e4, 1e4]], // σ exactly 0 or 1
      teacherMask: [1, 0, 1],
    }]]);
    const loss = await run(lossGraph([emotion], (g, logits) => distillationLoss(g, [emotion], logits, { temperature: 1, alpha: 1 })), feedsOf(data));
    // example 0: 4·ln 2 (gold) + 4·ln 2 (teacher); example 1: nothing; example 2: 4·ln 2 (teacher); N = 2
    expect(loss).toBeCloseTo(6 * Math.log(2), 6);
  });
});

describe('Eq. 2 options', () => {
  const refusal = (options: DistillationOptions, field: string): void => {
    const g = new GraphBuilder('bad');
    const logits = new Map([[sentiment.name, g.input('s', 'float32', ['batch', 3])]]);
    let caught: unknown;
    try {
      distillationLoss(g, [sentiment], logits, options);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(XlmtError);
    expect((caught as XlmtError).code).toBe('BAD_ARGUMENT');
    expect((caught as XlmtError).where?.field).toBe(field);
  };

  it('refuses a temperature that is not positive and finite', () => {
    for (const temperature of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) refusal({ temperature, alpha: 0.5 }, 'temperature');
  });

  it('refuses a negative or non-finite α', () => {
    for (const alpha of [-0.1, Number.NaN]) refusal({ temperature: 2, alpha }, 'alpha');
  });

  it('names the task whose logits are missing', () => {
    const g = new GraphBuilder('missing');
    expect(() => distillationLoss(g, tasks, new Map(), { temperature: 1, alpha: 1 })).toThrow(/sentiment/);
  });
});

// Gradient checks for the distillation losses (src/compress/distill/): Eq. 2 with respect to the student's (and
// teacher's) logits, hidden-state MSE with respect to the hidden states and the projection, MiniLMv2's relation
// KL with respect to the student's and teacher's vectors. Masks and gold labels are constants: they are data.
import { distillationLossOf, type DistillationOptions, type TaskTargets } from '../../../src/compress/distill/kd-loss.ts';
import { projectedHiddenMse } from '../../../src/compress/distill/hidden-mse.ts';
import { relationKl } from '../../../src/compress/distill/relation-kl.ts';
import type { GraphBuilder } from '../../../src/builder/index.ts';
import type { Value } from '../../../src/ir/graph.ts';
import { tensorFromNumbers } from '../../../src/ir/tensor.ts';
import type { TaskHead } from '../../../src/models/heads.ts';
import { type GradCase, gradCase, type InputSpec, uniform } from '../gradcheck.ts';

const sentiment: TaskHead = { name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] };
const emotion: TaskHead = { name: 'emotion', type: 'multilabel', labels: ['anger', 'joy', 'fear', 'trust'] };

const constant = (g: GraphBuilder, shape: readonly number[], values: readonly number[]): Value => g.constant(tensorFromNumbers('float64', shape, values));

// Four examples: gold and teacher, gold only, teacher only, neither (for sentiment); emotion mixes them otherwise.
const GOLD = {
  sentiment: { labels: [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1], mask: [1, 1, 0, 0] },
  emotion: { labels: [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1], mask: [0, 1, 1, 0] },
};
const TEACHER_MASK = { sentiment: [1, 0, 1, 0], emotion: [1, 1, 0, 0] };

function targets(g: GraphBuilder, task: TaskHead, teacherLogits: Value): TaskTargets {
  const name = task.name as 'sentiment' | 'emotion';
  const size = task.labels.length;
  return {
    gold: { labels: constant(g, [4, size], GOLD[name].labels), mask: constant(g, [4], GOLD[name].mask) },
    teacher: { logits: teacherLogits, mask: constant(g, [4], TEACHER_MASK[name]) },
  };
}

function eq2Case(tasks: readonly TaskHead[], options: DistillationOptions): GradCase {
  const inputs: Record<string, InputSpec> = {};
  for (const t of tasks) {
    inputs[t.name] = { shape: [4, t.labels.length], gen: uniform(-2, 2) };
    inputs[`${t.name}_teacher`] = { shape: [4, t.labels.length], gen: uniform(-3, 3) };
  }
  return gradCase({
    name: `Eq. 2 over ${tasks.map((t) => `${t.name} (${t.type})`).join(' and ')}, F = ${options.temperature}, α = ${options.alpha}, masks mixed`,
    ops: ['LogSoftmax', 'Exp', 'Sub', 'Mul', 'Div', 'ReduceSum', 'Sum', 'Neg', 'Sigmoid', 'Relu', 'Abs', 'Log', 'Add'],
    dtype: 'float64',
    inputs,
    build: (g, x) => {
      const input = (name: string): Value => x[name] as Value;
      const logits = new Map(tasks.map((t) => [t.name, input(t.name)]));
      const perTask = new Map(tasks.map((t) => [t.name, targets(g, t, input(`${t.name}_teacher`))]));
      return distillationLossOf(g, tasks, logits, perTask, options);
    },
  });
}

// Two sequences of 3 tokens, the second padded after its first token.
const ATTENTION_MASK = [1, 1, 1, 1, 0, 0];

export const distillCases: readonly GradCase[] = [
  eq2Case([sentiment, emotion], { temperature: 2, alpha: 0.5 }),
  eq2Case([sentiment], { temperature: 1, alpha: 1 }),
  eq2Case([emotion], { temperature: 4, alpha: 2 }),
  gradCase({
    name: 'hidden-state MSE through a projection [5 → 7], padded tokens',
    ops: ['Gemm', 'Sub', 'Mul', 'Reshape', 'ReduceSum', 'Div'],
    dtype: 'float64',
    inputs: { student: { shape: [6, 5] }, teacher: { shape: [6, 7] }, weight: { shape: [7, 5] }, bias: { shape: [7] } },
    build: (g, { student, teacher, weight, bias }) => projectedHiddenMse(g, student, teacher, constant(g, [2, 3], ATTENTION_MASK), { weight, bias }),
  }),
  ...[1, 2].map((relationHeads) => gradCase({
    name: `relation KL, ${relationHeads} relation head(s), student 4 wide, teacher 6, padded tokens`,
    ops: ['Reshape', 'Transpose', 'MatMul', 'Mul', 'Add', 'LogSoftmax', 'Exp', 'Sub', 'ReduceSum', 'Div'],
    dtype: 'float64',
    inputs: { student: { shape: [6, 4], gen: uniform(-2, 2) }, teacher: { shape: [6, 6], gen: uniform(-2, 2) } },
    build: (g, { student, teacher }) => relationKl(g, student, teacher, constant(g, [2, 3], ATTENTION_MASK), relationHeads),
  })),
];

// Eq. 2 of Campos et al. (2022): each task's gold-label cross-entropy plus a teacher's term on temperature-softened
// outputs, over the examples labeled by gold or teacher, as one scalar of the training graph.
import type { GraphBuilder } from '../../builder/builder.ts';
import { XlmtError } from '../../errors/index.ts';
import type { Value } from '../../ir/graph.ts';
import { sigmoidCrossEntropyPerExample, softTargetCrossEntropyPerExample, type TaskHead } from '../../models/heads.ts';
import { labelInput, labelMaskInput } from '../../models/multitask.ts';
import { teacherLogitsInput, teacherMaskInput } from './names.ts';

export interface DistillationOptions {
  /** F > 0. Both the teacher's and the student's outputs are divided by it before the teacher's term. */
  readonly temperature: number;
  /** α ≥ 0, the weight of the teacher's term. 0 is Eq. 1 exactly: no teacher input, teacher-only examples count for nothing. */
  readonly alpha: number;
}

/** What one task's loss compares the student's logits [batch, L] with. */
export interface TaskTargets {
  /** Gold targets [batch, L] (a one-hot row, or 0/1 per label for multilabel) and their mask [batch]. */
  readonly gold: { readonly labels: Value; readonly mask: Value };
  /** The teacher's logits [batch, L] and its mask [batch]; rows outside the mask must still be finite (zeros). */
  readonly teacher?: { readonly logits: Value; readonly mask: Value };
}

/**
 * The teacher's term of one task per example, before α: F²·KL(q̂ ‖ p̂) with q̂ = softmax(teacher/F) and
 * p̂ = softmax(student/F) for multiclass; for multilabel, F² times the binary cross-entropy of sigmoid(student/F)
 * against sigmoid(teacher/F), summed over labels. F² keeps the term's gradients on the scale of the gold term's as
 * F grows (Hinton et al., 2015). logits [batch, L] → [batch]
 */
export function teacherTermPerExample(g: GraphBuilder, task: TaskHead, student: Value, teacher: Value, temperature: number): Value {
  const { op } = g;
  const soft = (logits: Value): Value => op.Div(logits, temperature);
  const f2 = temperature * temperature;
  if (task.type === 'multilabel') return op.Mul(sigmoidCrossEntropyPerExample(g, soft(student), op.Sigmoid(soft(teacher))), f2);
  const logQ = op.LogSoftmax(soft(teacher), { axis: -1 });
  const logP = op.LogSoftmax(soft(student), { axis: -1 });
  // q̂·(log q̂ − log p̂): a q̂ that underflows to 0 gives 0, since LogSoftmax keeps log q̂ finite.
  const kl = op.ReduceSum(op.Mul(op.Exp(logQ), op.Sub(logQ, logP)), [1], { keepdims: false });
  return op.Mul(kl, f2);
}

/**
 * Eq. 2 over Values the caller made:
 *   L = (1/N) Σ_tasks Σ_examples [ gold_mask·CE(gold) + teacher_mask·α·F²·KD ],
 * N being the number of examples labeled, by gold or by a teacher, for at least one task (at least 1, so a batch
 * with no label at all gives 0). An example with no gold label for a task gets the teacher's term alone; one
 * the teacher did not score, the gold cross-entropy alone; one with neither, nothing.
 */
export function distillationLossOf(g: GraphBuilder, tasks: readonly TaskHead[], logits: ReadonlyMap<string, Value>, targets: ReadonlyMap<string, TaskTargets>, options: DistillationOptions): Value {
  checkOptions(options);
  const { op } = g;
  const terms: Value[] = [];
  const masks: Value[] = [];
  for (const task of tasks) {
    const student = logits.get(task.name);
    const target = targets.get(task.name);
    if (!student || !target) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', message: `no ${student ? 'targets' : 'logits'} for the task`, where: { api: 'distillationLoss', task: task.name } });
    }
    const gold = task.type === 'multiclass'
      ? softTargetCrossEntropyPerExample(g, student, target.gold.labels)
      : sigmoidCrossEntropyPerExample(g, student, target.gold.labels);
    terms.push(op.ReduceSum(op.Mul(gold, target.gold.mask), undefined, { keepdims: false }));
    masks.push(target.gold.mask);
    if (options.alpha === 0 || !target.teacher) continue;
    const kd = teacherTermPerExample(g, task, student, target.teacher.logits, options.temperature);
    terms.push(op.Mul(op.ReduceSum(op.Mul(kd, target.teacher.mask), undefined, { keepdims: false }), options.alpha));
    masks.push(target.teacher.mask);
  }
  const labeled = masks.length === 1 ? (masks[0] as Value) : op.Max(...masks); // 1 where labeled for any task
  const n = op.Max(op.ReduceSum(labeled, undefined, { keepdims: false }), g.scalar(1, labeled.dtype));
  const total = terms.length === 1 ? (terms[0] as Value) : op.Sum(...terms);
  return op.Div(total, n);
}

/**
 * Eq. 2 with its inputs declared, float32: per task `labels:<task>` [batch, L] and `label_mask:<task>` [batch] (as
 * multiTaskLoss takes them), and, when α > 0, `teacher_logits:<task>` [batch, L] and `teacher_mask:<task>` [batch].
 */
export function distillationLoss(g: GraphBuilder, tasks: readonly TaskHead[], logits: ReadonlyMap<string, Value>, options: DistillationOptions): Value {
  checkOptions(options);
  const targets = new Map<string, TaskTargets>();
  for (const task of tasks) {
    const labels = task.labels.length;
    const gold = { labels: g.input(labelInput(task.name), 'float32', ['batch', labels]), mask: g.input(labelMaskInput(task.name), 'float32', ['batch']) };
    if (options.alpha === 0) {
      targets.set(task.name, { gold });
      continue;
    }
    const teacher = { logits: g.input(teacherLogitsInput(task.name), 'float32', ['batch', labels]), mask: g.input(teacherMaskInput(task.name), 'float32', ['batch']) };
    targets.set(task.name, { gold, teacher });
  }
  return distillationLossOf(g, tasks, logits, targets, options);
}

function checkOptions(options: DistillationOptions): void {
  const { temperature, alpha } = options;
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the distillation temperature must be a positive number', where: { api: 'distillationLoss', field: 'temperature' }, expected: 'F > 0', received: String(temperature) });
  }
  if (!Number.isFinite(alpha) || alpha < 0) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the weight of the teacher\'s term must be a non-negative number', where: { api: 'distillationLoss', field: 'alpha' }, expected: 'α ≥ 0', received: String(alpha) });
  }
}

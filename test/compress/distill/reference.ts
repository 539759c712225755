// Naive float64 references for the distillation losses: plain loops over examples, tokens and heads, written
// from the formulas (docs/distillation.md) and sharing nothing with the graphs they check.
import type { TaskHead } from '../../../src/models/heads.ts';

export type Matrix = number[][];

const logSumExp = (z: readonly number[]): number => {
  const m = Math.max(...z);
  return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
};
export const logSoftmax = (z: readonly number[]): number[] => {
  const lse = logSumExp(z);
  return z.map((v) => v - lse);
};
/** log(1 + e^z) without overflow. */
export const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export interface TaskData {
  readonly student: Matrix;
  readonly labels: Matrix;
  readonly labelMask: readonly number[];
  readonly teacher: Matrix;
  readonly teacherMask: readonly number[];
}

/** Gold cross-entropy of one example: −Σ y·log softmax(z), or Σ BCE(σ(z), y) for multilabel. */
function goldTerm(type: TaskHead['type'], z: readonly number[], y: readonly number[]): number {
  if (type === 'multiclass') {
    const logP = logSoftmax(z);
    return -y.reduce((s, yk, k) => s + yk * (logP[k] as number), 0);
  }
  // −[y·log σ(z) + (1 − y)·log(1 − σ(z))], log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z)
  return z.reduce((s, zl, l) => s + (y[l] as number) * softplus(-zl) + (1 - (y[l] as number)) * softplus(zl), 0);
}

/** F²·KL(softmax(t/F) ‖ softmax(s/F)), or F²·Σ_l BCE(σ(s/F) against σ(t/F)) for multilabel. */
function teacherTerm(type: TaskHead['type'], s: readonly number[], t: readonly number[], temperature: number): number {
  const soft = (z: readonly number[]): number[] => z.map((v) => v / temperature);
  if (type === 'multiclass') {
    const logQ = logSoftmax(soft(t));
    const logP = logSoftmax(soft(s));
    return temperature ** 2 * logQ.reduce((sum, lq, k) => sum + Math.exp(lq) * (lq - (logP[k] as number)), 0);
  }
  const q = soft(t).map(sigmoid);
  const p = soft(s);
  return temperature ** 2 * p.reduce((sum, z, l) => sum + (q[l] as number) * softplus(-z) + (1 - (q[l] as number)) * softplus(z), 0);
}

/** Eq. 2, example by example; with α = 0 the teacher's rows count for nothing, N included. */
export function eq2Reference(tasks: readonly TaskHead[], data: ReadonlyMap<string, TaskData>, temperature: number, alpha: number): number {
  const batch = (data.get(tasks[0]?.name ?? '')?.labelMask.length) ?? 0;
  let total = 0;
  let labeled = 0;
  for (let b = 0; b < batch; b++) {
    let counted = false;
    for (const task of tasks) {
      const d = data.get(task.name);
      if (!d) throw new Error(`no data for ${task.name}`);
      const s = d.student[b] as number[];
      if (d.labelMask[b]) {
        total += goldTerm(task.type, s, d.labels[b] as number[]);
        counted = true;
      }
      if (alpha > 0 && d.teacherMask[b]) {
        total += alpha * teacherTerm(task.type, s, d.teacher[b] as number[], temperature);
        counted = true;
      }
    }
    if (counted) labeled++;
  }
  return total / Math.max(labeled, 1);
}

/** Mean over real tokens and teacher dimensions of ((W·s + b) − h)²; weight [hT][hS]. */
export function hiddenMseReference(student: Matrix, teacher: Matrix, mask: readonly number[], weight: Matrix, bias: readonly number[]): number {
  let sum = 0;
  let tokens = 0;
  student.forEach((s, t) => {
    if (!mask[t]) return;
    tokens++;
    weight.forEach((row, j) => {
      const projected = row.reduce((acc, w, i) => acc + w * (s[i] as number), bias[j] as number);
      sum += (projected - (teacher[t]?.[j] as number)) ** 2;
    });
  });
  return sum / (Math.max(tokens, 1) * weight.length);
}

/** log softmax over real keys of (a_q·a_k)/√d for one sequence and one relation head's slice [offset, offset + d). */
function logRelationRow(vectors: Matrix, mask: readonly number[], q: number, offset: number, d: number): number[] {
  const scores: number[] = [];
  const keys: number[] = [];
  vectors.forEach((k, j) => {
    if (!mask[j]) return;
    let dotProduct = 0;
    for (let i = offset; i < offset + d; i++) dotProduct += (vectors[q]?.[i] as number) * (k[i] as number);
    scores.push(dotProduct / Math.sqrt(d));
    keys.push(j);
  });
  return logSoftmax(scores);
}

/**
 * MiniLMv2's relation KL for one kind of vector: for each sequence, relation head and real query position,
 * KL(teacher ‖ student) over the real keys; the mean over relation heads and real query positions.
 * student/teacher [batch][seq][size], mask [batch][seq].
 */
export function relationKlReference(student: Matrix[], teacher: Matrix[], mask: readonly (readonly number[])[], relationHeads: number): number {
  let sum = 0;
  let queries = 0;
  student.forEach((s, b) => {
    const t = teacher[b] as Matrix;
    const m = mask[b] as number[];
    const dS = (s[0]?.length ?? 0) / relationHeads;
    const dT = (t[0]?.length ?? 0) / relationHeads;
    for (let q = 0; q < s.length; q++) {
      if (!m[q]) continue;
      queries++;
      for (let r = 0; r < relationHeads; r++) {
        const logT = logRelationRow(t, m, q, r * dT, dT);
        const logS = logRelationRow(s, m, q, r * dS, dS);
        sum += logT.reduce((acc, lt, k) => acc + Math.exp(lt) * (lt - (logS[k] as number)), 0);
      }
    }
  });
  return sum / (Math.max(queries, 1) * relationHeads);
}

// The accuracy budget of a compression: how much relative macro-F1 a model may lose against its teacher on dev,
// on the mean of the tasks and, optionally, on every task and on every language. All in percent of the teacher's
// score, (teacher − model) / teacher × 100, so a budget means the same on an easy task as on a hard one.
//
// A language's score is the mean over the tasks that have it of the task's macro-F1 in that language: a language
// that only one task covers is judged on that task alone, not diluted by tasks it is absent from.
import { XlmtError } from '../../errors/index.ts';
import type { DatasetEvaluation } from '../../train/evaluate.ts';

export interface Budget {
  /** Relative degradation of the mean macro-F1 allowed, percent. */
  readonly mean: number;
  /** Of every task's macro-F1, percent; unchecked when absent. */
  readonly perTask?: number;
  /** Of every language's score, percent; unchecked when absent. */
  readonly perLanguage?: number;
}

/** What a budget is checked on: a model's dev scores, as the compression report keeps them. */
export interface Scored {
  readonly meanMacroF1: number;
  readonly tasks: readonly { readonly task: string; readonly macroF1: number }[];
  readonly languages: readonly { readonly lang: string; readonly macroF1: number }[];
}

export interface BudgetCheck {
  readonly within: boolean;
  /** One line per limit exceeded: "emotion −4.1% (limit 4%)". */
  readonly over: readonly string[];
}

/** "2.6%" or "2.6": a percentage from a flag; the flag is named when it is not one. */
export function parsePercent(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(text);
  const value = match ? Number(match[1]) : Number.NaN;
  if (!Number.isFinite(value) || value >= 100) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: flag }, message: 'not a percentage of relative macro-F1 degradation', expected: 'a number from 0 to under 100, with or without %: 2.6%', received: text });
  }
  return value;
}

/** Each language's mean over the tasks that have it of their macro-F1 in that language, sorted by code. */
export function languageScores(scores: DatasetEvaluation): { lang: string; macroF1: number }[] {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const report of scores.reports) {
    for (const l of report.perLanguage) {
      if (!Number.isFinite(l.macroF1)) continue;
      const s = sums.get(l.lang) ?? { sum: 0, n: 0 };
      sums.set(l.lang, { sum: s.sum + l.macroF1, n: s.n + 1 });
    }
  }
  return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([lang, s]) => ({ lang, macroF1: s.sum / s.n }));
}

/** (teacher − model) / teacher × 100; 0 when the teacher scored 0 and the model too. */
export function relativeDegradation(teacher: number, model: number): number {
  if (teacher === 0) return model === 0 ? 0 : -Infinity;
  return (100 * (teacher - model)) / teacher;
}

const pct = (x: number): string => `${x.toFixed(2)}%`;

export function checkBudget(teacher: Scored, model: Scored, budget: Budget): BudgetCheck {
  const over: string[] = [];
  const mean = relativeDegradation(teacher.meanMacroF1, model.meanMacroF1);
  if (!(mean <= budget.mean)) over.push(`mean ${pct(mean)} (limit ${pct(budget.mean)})`);
  const limits: [string, number | undefined, readonly { name: string; macroF1: number }[], readonly { name: string; macroF1: number }[]][] = [
    ['task', budget.perTask, teacher.tasks.map((t) => ({ name: t.task, macroF1: t.macroF1 })), model.tasks.map((t) => ({ name: t.task, macroF1: t.macroF1 }))],
    ['language', budget.perLanguage, teacher.languages.map((l) => ({ name: l.lang, macroF1: l.macroF1 })), model.languages.map((l) => ({ name: l.lang, macroF1: l.macroF1 }))],
  ];
  for (const [kind, limit, reference, scored] of limits) {
    if (limit === undefined) continue;
    for (const r of reference) {
      const m = scored.find((s) => s.name === r.name);
      if (m === undefined) {
        over.push(`${kind} ${r.name} not scored`);
        continue;
      }
      const d = relativeDegradation(r.macroF1, m.macroF1);
      if (!(d <= limit)) over.push(`${r.name} ${pct(d)} (limit ${pct(limit)})`);
    }
  }
  return { within: over.length === 0, over };
}

/** "mean ≤ 2.6%, every task ≤ 4%, every language ≤ 6%". */
export function describeBudget(budget: Budget): string {
  return [`mean ≤ ${budget.mean}%`, budget.perTask === undefined ? null : `every task ≤ ${budget.perTask}%`, budget.perLanguage === undefined ? null : `every language ≤ ${budget.perLanguage}%`]
    .filter((x) => x !== null).join(', ');
}

// The budget search: candidates in order of their expected speedup, fastest first, each made and scored on dev
// until one is within the budget. A candidate slower than that one cannot win, so it is never trained: the search
// costs the trainings of the candidates faster than the answer, and the answer's.
//
// The expected speedup is the teacher's time over the candidate's shape's, both timed with random weights at the
// serving shape before anything is trained (what pruning leaves is known in advance: its heads and FFN sizes; a
// pass that prunes unevenly keeps the same totals). Candidates that differ only in a trimmed vocabulary time
// alike (a smaller table is no slower a gather), and the trimmed one, smaller on disk, is tried first. The
// answer's own speedup is then measured on the model itself, as every scored candidate's.
import { type Budget, type BudgetCheck, checkBudget, type Scored } from './budget.ts';
import type { Candidate } from './space.ts';

export interface ScoredCandidate extends Scored {
  /** Measured on the model made, against the teacher, same run. */
  readonly speedup: number | null;
  readonly degradation: number;
}

/** A candidate made and scored. */
export interface Tried {
  readonly id: string;
  readonly expected: number;
  readonly status: 'within' | 'over';
  readonly scored: ScoredCandidate;
  readonly check: BudgetCheck;
}

export type Outcome = Tried | { readonly id: string; readonly expected: number; readonly status: 'not tried'; readonly why: string };

export interface SearchResult {
  /** Every candidate in the order tried, with what became of it. */
  readonly outcomes: readonly Outcome[];
  /** The fastest candidate within the budget; null when none is. */
  readonly answer: string | null;
}

export interface SearchHooks {
  /** The candidate's expected speedup over the teacher (timed shapes). */
  expectedSpeedup(c: Candidate): number;
  /** Makes the candidate (or finds it made) and scores it. */
  score(c: Candidate): Promise<ScoredCandidate>;
  log?(line: string): void;
}

/** Fastest expected first; at equal speed the trimmed first, then by id, so the order never depends on input order. */
export function searchOrder(list: readonly Candidate[], expected: (c: Candidate) => number): Candidate[] {
  return [...list].sort((a, b) => expected(b) - expected(a) || Number(b.trim) - Number(a.trim) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * `exhaustive` scores every candidate (for a full Pareto front) and answers with the fastest measured within the
 * budget; otherwise the search stops at the first within budget and the rest are reported as not tried.
 */
export async function searchBudget(list: readonly Candidate[], teacher: Scored, budget: Budget, hooks: SearchHooks, exhaustive = false): Promise<SearchResult> {
  const outcomes: Outcome[] = [];
  let answer: string | null = null;
  for (const c of searchOrder(list, (x) => hooks.expectedSpeedup(x))) {
    const expected = hooks.expectedSpeedup(c);
    if (answer !== null && !exhaustive) {
      outcomes.push({ id: c.id, expected, status: 'not tried', why: `expected slower than ${answer}` });
      continue;
    }
    hooks.log?.(`== candidate ${c.id} (expected ${expected.toFixed(2)}× the teacher)`);
    const scored = await hooks.score(c);
    const check = checkBudget(teacher, scored, budget);
    outcomes.push({ id: c.id, expected, status: check.within ? 'within' : 'over', scored, check });
    hooks.log?.(`${c.id}: ${check.within ? 'within the budget' : `over the budget: ${check.over.join('; ')}`}`);
    if (check.within && answer === null) answer = c.id;
  }
  if (exhaustive) { // every candidate measured: the answer is the fastest measured, not the fastest expected
    const within = outcomes.filter((o): o is Tried => o.status === 'within');
    const speed = (o: Tried): number => o.scored.speedup ?? o.expected;
    answer = within.reduce<Tried | null>((best, o) => (best === null || speed(o) > speed(best) ? o : best), null)?.id ?? null;
  }
  return { outcomes, answer };
}

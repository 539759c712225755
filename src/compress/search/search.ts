// The budget search. First the candidates that train nothing (the teacher exported int8, its vocabulary trimmed):
// made in seconds, the fastest of them within the budget is an answer in hand within minutes. Then the trained
// candidates in order of their expected speedup, fastest first, each made and scored on dev, until one is within
// the budget. A candidate expected no faster than the best within the budget so far cannot win, so it is never
// made: the search costs the untrained candidates' scoring, the trainings of the candidates faster than the
// answer, and the answer's.
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
  /** The first candidate found within the budget (the answer in hand while the search went on); null when none is. */
  readonly first: string | null;
}

export interface SearchHooks {
  /** The candidate's expected speedup over the teacher (timed shapes). */
  expectedSpeedup(c: Candidate): number;
  /** Makes the candidate (or finds it made) and scores it. */
  score(c: Candidate): Promise<ScoredCandidate>;
  log?(line: string): void;
  /** After each candidate decided (tried or not): the search so far, to report while it goes on. */
  progress?(sofar: SearchResult): Promise<void>;
}

/**
 * The untrained candidates first, then the trained; within each, fastest expected first; at equal speed the trimmed
 * first, then by id, so the order never depends on input order.
 */
export function searchOrder(list: readonly Candidate[], expected: (c: Candidate) => number): Candidate[] {
  const byId = (a: Candidate, b: Candidate): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...list].sort((a, b) => Number(a.trains) - Number(b.trains) || expected(b) - expected(a) || Number(b.trim) - Number(a.trim) || byId(a, b));
}

/**
 * `exhaustive` scores every candidate (for a full Pareto front) and answers with the fastest measured within the
 * budget; otherwise a candidate expected no faster than the best within the budget so far is reported as not tried,
 * and the answer is the fastest expected within the budget.
 */
export async function searchBudget(list: readonly Candidate[], teacher: Scored, budget: Budget, hooks: SearchHooks, exhaustive = false): Promise<SearchResult> {
  const outcomes: Outcome[] = [];
  let best: { id: string; expected: number } | null = null;
  let first: string | null = null;
  for (const c of searchOrder(list, (x) => hooks.expectedSpeedup(x))) {
    const expected = hooks.expectedSpeedup(c);
    if (best !== null && !exhaustive && !(expected > best.expected)) {
      outcomes.push({ id: c.id, expected, status: 'not tried', why: `expected no faster than ${best.id}` });
    } else {
      hooks.log?.(`== candidate ${c.id} (expected ${expected.toFixed(2)}× the teacher${c.trains ? '' : ', nothing to train'})`);
      const scored = await hooks.score(c);
      const check = checkBudget(teacher, scored, budget);
      outcomes.push({ id: c.id, expected, status: check.within ? 'within' : 'over', scored, check });
      hooks.log?.(`${c.id}: ${check.within ? 'within the budget' : `over the budget: ${check.over.join('; ')}`}`);
      if (check.within) {
        first ??= c.id;
        if (best === null || expected > best.expected) best = { id: c.id, expected };
      }
    }
    await hooks.progress?.({ outcomes: [...outcomes], answer: best?.id ?? null, first });
  }
  let answer = best?.id ?? null;
  if (exhaustive) { // every candidate measured: the answer is the fastest measured, not the fastest expected
    const within = outcomes.filter((o): o is Tried => o.status === 'within');
    const speed = (o: Tried): number => o.scored.speedup ?? o.expected;
    answer = within.reduce<Tried | null>((b, o) => (b === null || speed(o) > speed(b) ? o : b), null)?.id ?? null;
  }
  return { outcomes, answer, first };
}

// "Did you mean" for unknown labels, tasks, fields and columns, and short lists of the valid choices.

/** The closest choice to `received`, or null when nothing is close enough to be a likely typo. */
export function closest(received: string, choices: readonly string[]): string | null {
  const lower = received.toLowerCase().trim();
  const sameIgnoringCase = choices.find((c) => c.toLowerCase() === lower);
  if (sameIgnoringCase !== undefined) return sameIgnoringCase;
  // A third of the length tolerates one or two slips in a word without matching unrelated short labels.
  const limit = Math.max(1, Math.floor(lower.length / 3));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const c of choices) {
    const d = editDistance(lower, c.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

export function didYouMean(received: string, choices: readonly string[]): string | undefined {
  const match = closest(received, choices);
  return match === null ? undefined : `did you mean ${JSON.stringify(match)}?`;
}

/** `one of "a", "b", "c"`, cut after `max` choices so a 500-label task stays readable. */
export function oneOf(choices: readonly string[], max = 20): string {
  const shown = choices.slice(0, max).map((c) => JSON.stringify(c)).join(', ');
  const rest = choices.length > max ? `, … (${choices.length} in all)` : '';
  return choices.length === 0 ? 'nothing (none defined)' : `one of ${shown}${rest}`;
}

/** Levenshtein distance, giving up (returning `stop`) once every path costs at least `stop`. */
function editDistance(a: string, b: string, stop: number): number {
  if (Math.abs(a.length - b.length) >= stop) return stop;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= stop) return stop;
    previous = current;
  }
  return Math.min(previous[b.length] ?? stop, stop);
}

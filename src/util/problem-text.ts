// One rendering for the typed errors whose details are "where, problem, expected, received, hint":
// `where: problem (expected …; received …). Hint`.

export interface ProblemDetails {
  readonly where: string;
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  readonly hint?: string;
}

export function problemText(d: ProblemDetails): string {
  let text = `${d.where}: ${d.problem}`;
  const parts = [d.expected === undefined ? null : `expected ${d.expected}`, d.received === undefined ? null : `received ${d.received}`];
  const shown = parts.filter((p) => p !== null);
  if (shown.length > 0) text += ` (${shown.join('; ')})`;
  if (d.hint !== undefined) text += `. ${d.hint}`;
  return text;
}

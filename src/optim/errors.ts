// Errors raised by optimizers, schedules and gradient utilities: one class, a stable code, text rendered in one place.

export type OptimErrorCode =
  | 'UNKNOWN_PARAMETER'
  | 'SIZE_MISMATCH'
  | 'BAD_ROW_INDEX'
  | 'BAD_STATE'
  | 'BAD_ARGUMENT'
  | 'NON_FINITE';

export interface OptimErrorDetails {
  readonly code: OptimErrorCode;
  /** The API that raised it, such as `AdamW.step` or `linearSchedule`. */
  readonly where: string;
  /** What went wrong, naming the parameter or argument. */
  readonly problem: string;
  readonly param?: string;
  readonly expected?: string;
  readonly received?: string;
  /** What the caller can do about it. */
  readonly hint?: string;
}

export class OptimError extends Error {
  readonly code: OptimErrorCode;
  readonly where: string;
  readonly param: string | undefined;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(details: OptimErrorDetails) {
    super(render(details));
    this.name = 'OptimError';
    this.code = details.code;
    this.where = details.where;
    this.param = details.param;
    this.expected = details.expected;
    this.received = details.received;
  }
}

function render(d: OptimErrorDetails): string {
  let text = `${d.where}: ${d.problem}`;
  if (d.expected !== undefined || d.received !== undefined) {
    text += ` (expected ${d.expected ?? '?'}, received ${d.received ?? '?'})`;
  }
  if (d.hint !== undefined) text += `. ${d.hint}`;
  return text;
}

/** Throws BAD_ARGUMENT unless `value` is a finite number passing `ok`; `expected` describes what passes. */
export function checkNumber(where: string, name: string, value: number, expected: string, ok: (v: number) => boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new OptimError({ code: 'BAD_ARGUMENT', where, problem: `invalid ${name}`, expected, received: String(value) });
  }
}

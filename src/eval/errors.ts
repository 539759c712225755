// Errors raised by the evaluation metrics: one class, a stable code, text rendered in one place.

export type EvalErrorCode = 'SHAPE_MISMATCH' | 'BAD_LABEL' | 'TYPE_MISMATCH' | 'BAD_ARGUMENT' | 'EMPTY';

export interface EvalErrorDetails {
  readonly code: EvalErrorCode;
  /** The API that raised it, such as `evaluateTask` or `tuneThresholds`. */
  readonly where: string;
  /** What went wrong, naming the task, array or argument. */
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What the caller can do about it. */
  readonly hint?: string;
}

export class EvalError extends Error {
  readonly code: EvalErrorCode;
  readonly where: string;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(details: EvalErrorDetails) {
    super(render(details));
    this.name = 'EvalError';
    this.code = details.code;
    this.where = details.where;
    this.expected = details.expected;
    this.received = details.received;
  }
}

function render(d: EvalErrorDetails): string {
  let text = `${d.where}: ${d.problem}`;
  if (d.expected !== undefined || d.received !== undefined) {
    text += ` (expected ${d.expected ?? '?'}, received ${d.received ?? '?'})`;
  }
  if (d.hint !== undefined) text += `. ${d.hint}`;
  return text;
}

/** Throws SHAPE_MISMATCH unless `data` holds rows × cols values. */
export function checkMatrix(where: string, name: string, data: ArrayLike<number>, rows: number, cols: number): void {
  if (data.length !== rows * cols) {
    throw new EvalError({
      code: 'SHAPE_MISMATCH',
      where,
      problem: `${name} has the wrong number of values for [${rows}, ${cols}]`,
      expected: String(rows * cols),
      received: String(data.length),
    });
  }
}

/** Throws BAD_ARGUMENT unless `count` is a positive integer. */
export function checkLabelCount(where: string, count: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new EvalError({ code: 'BAD_ARGUMENT', where, problem: 'invalid label count', expected: 'an integer >= 1', received: String(count) });
  }
}

/** Throws BAD_LABEL unless every value of a 0/1 matrix is 0 or 1. */
export function checkBinary(where: string, name: string, data: Uint8Array): void {
  const bad = data.findIndex((v) => v > 1);
  if (bad >= 0) {
    throw new EvalError({ code: 'BAD_LABEL', where, problem: `${name}[${bad}] is not 0 or 1`, expected: '0 or 1', received: String(data[bad]) });
  }
}

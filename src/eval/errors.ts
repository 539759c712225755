// How the metrics fail: XlmtErrors naming the API (and, for a task's report, the task). Arrays of the wrong shape
// or type are BAD_ARGUMENT; a NaN or infinite probability or metric value is NON_FINITE.
import { XlmtError, type ErrorData, type Where } from '../errors/index.ts';

/** The API that was called (`tuneThresholds`), or a fuller place such as `{ api: 'evaluateTask', task }`. */
export type At = string | Where;

type Details = Pick<ErrorData, 'expected' | 'received' | 'hint'>;

function where(at: At): Where {
  return typeof at === 'string' ? { api: at } : at;
}

export function badArgument(at: At, message: string, details: Details = {}): XlmtError {
  return new XlmtError({ code: 'BAD_ARGUMENT', message, where: where(at), ...details });
}

export function nonFinite(at: At, message: string, details: Details = {}): XlmtError {
  return new XlmtError({ code: 'NON_FINITE', message, where: where(at), ...details });
}

/** Throws BAD_ARGUMENT unless `data` holds rows × cols values. */
export function checkMatrix(at: At, name: string, data: ArrayLike<number>, rows: number, cols: number): void {
  if (data.length !== rows * cols) {
    throw badArgument(at, `${name} has the wrong number of values for [${rows}, ${cols}]`, { expected: String(rows * cols), received: String(data.length) });
  }
}

/** Throws BAD_ARGUMENT unless `count` is a positive integer. */
export function checkLabelCount(at: At, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw badArgument(at, 'invalid label count', { expected: 'an integer >= 1', received: String(count) });
}

/** Throws BAD_ARGUMENT unless every value of a 0/1 matrix is 0 or 1. */
export function checkBinary(at: At, name: string, data: Uint8Array): void {
  const bad = data.findIndex((v) => v > 1);
  if (bad >= 0) throw badArgument(at, `${name}[${bad}] is not 0 or 1`, { expected: '0 or 1', received: String(data[bad]) });
}

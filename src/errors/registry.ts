// The one registry of error codes: every code xlmt raises, its kind (and so the command line's exit status) and,
// for codes a request can meet, the HTTP status. Tables live per area in codes/; a code appears in one table only.
import { commonCodes } from './codes/common.ts';
import { dataCodes } from './codes/data.ts';
import { distillCodes } from './codes/distill.ts';
import { evaluateCodes } from './codes/evaluate.ts';
import { modelCodes } from './codes/model.ts';
import { serveCodes } from './codes/serve.ts';
import { trainCodes } from './codes/train.ts';
import type { CodeEntry, CodeTable, ErrorKind } from './types.ts';

/** The tables by area, in the order docs/errors.md lists them. */
export const CODE_TABLES = {
  common: commonCodes,
  data: dataCodes,
  model: modelCodes,
  train: trainCodes,
  distill: distillCodes,
  evaluate: evaluateCodes,
  serve: serveCodes,
} as const satisfies Record<string, CodeTable>;

export const CODES = {
  ...commonCodes,
  ...dataCodes,
  ...modelCodes,
  ...trainCodes,
  ...distillCodes,
  ...evaluateCodes,
  ...serveCodes,
} as const satisfies CodeTable;

export type ErrorCode = keyof typeof CODES;

/** The codes a request to `xlmt serve` can get, with an HTTP status each. */
export type HttpErrorCode = { [C in ErrorCode]: (typeof CODES)[C] extends { http: number } ? C : never }[ErrorCode];

/** The command line's exit status for each kind of failure (documented in docs/errors.md). */
export const EXIT_STATUS: Readonly<Record<ErrorKind, number>> = { internal: 1, usage: 2, input: 3, io: 4 };

export function codeEntry(code: ErrorCode): CodeEntry {
  return CODES[code];
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CODES, code);
}

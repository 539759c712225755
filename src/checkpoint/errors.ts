// Errors raised while reading and writing checkpoints: XlmtErrors whose `where` always names the file (and the
// tensor or config field), and zod issues turned into problem, expected and received.
import type { z } from 'zod';
import { preview, XlmtError, type ErrorCode } from '../errors/index.ts';

export type CheckpointErrorCode = Extract<
  ErrorCode,
  'FILE_NOT_FOUND' | 'IO_FAILED' | 'BAD_HEADER' | 'BAD_TENSOR' | 'BAD_CONFIG' | 'BAD_INDEX' | 'UNSUPPORTED' | 'KEY_MISMATCH' | 'BAD_ARGUMENT' | 'NON_FINITE'
>;

export interface CheckpointErrorDetails {
  readonly code: CheckpointErrorCode;
  /** The file (or directory) involved, as the caller named it. */
  readonly file: string;
  /** The tensor involved, by its name in the file. */
  readonly tensor?: string;
  /** The config.json or index field involved, as a dotted path. */
  readonly field?: string;
  /** What went wrong. */
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What the caller can do about it. */
  readonly hint?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An XlmtError of the checkpoint area: the same data, with the file required. */
export class CheckpointError extends XlmtError<CheckpointErrorCode> {
  constructor(d: CheckpointErrorDetails, options?: ErrorOptions) {
    super(
      {
        code: d.code,
        message: d.problem,
        where: { file: d.file, ...(d.tensor === undefined ? {} : { tensor: d.tensor }), ...(d.field === undefined ? {} : { field: d.field }) },
        ...(d.expected === undefined ? {} : { expected: d.expected }),
        ...(d.received === undefined ? {} : { received: d.received }),
        ...(d.hint === undefined ? {} : { hint: d.hint }),
        ...(d.details === undefined ? {} : { details: d.details }),
      },
      options,
    );
    this.name = 'CheckpointError';
  }
}

/** FILE_NOT_FOUND or IO_FAILED for a failed read of `file`, keeping the system error as the cause. */
export function readFailure(file: string, what: string, error: unknown): CheckpointError {
  const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_FAILED';
  return new CheckpointError({ code, file, problem: `cannot ${what}: ${(error as Error).message}` }, { cause: error });
}

/** Dotted path of a zod issue, with array indices in brackets: `shape[1]`. */
export function issuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

/**
 * The problem, expected and received parts of a zod issue. Parse with `reportInput: true` so that `received`
 * shows the offending value.
 */
export function describeIssue(issue: z.core.$ZodIssue): { problem: string; expected?: string; received?: string } {
  const received = 'input' in issue && issue.input !== undefined ? preview(issue.input) : 'nothing';
  switch (issue.code) {
    case 'invalid_type':
      return { problem: 'wrong type', expected: issue.expected, received };
    case 'invalid_value':
      return { problem: 'unsupported value', expected: `one of ${issue.values.map((v) => preview(v)).join(', ')}`, received };
    case 'too_small':
      return { problem: 'value too small', expected: `${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`, received };
    case 'too_big':
      return { problem: 'value too large', expected: `${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`, received };
    case 'unrecognized_keys':
      return { problem: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` };
    default:
      return { problem: issue.message, received };
  }
}

// Errors raised while reading and writing checkpoints: one class, a stable code, text rendered in one place.
import type { z } from 'zod';

export type CheckpointErrorCode =
  | 'NOT_FOUND'
  | 'IO'
  | 'BAD_HEADER'
  | 'BAD_TENSOR'
  | 'BAD_CONFIG'
  | 'BAD_INDEX'
  | 'UNSUPPORTED'
  | 'KEY_MISMATCH'
  | 'BAD_ARGUMENT';

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
}

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  readonly file: string;
  readonly tensor: string | undefined;
  readonly field: string | undefined;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(details: CheckpointErrorDetails, options?: ErrorOptions) {
    super(render(details), options);
    this.name = 'CheckpointError';
    this.code = details.code;
    this.file = details.file;
    this.tensor = details.tensor;
    this.field = details.field;
    this.expected = details.expected;
    this.received = details.received;
  }
}

function render(d: CheckpointErrorDetails): string {
  let text = `${d.file}: `;
  if (d.tensor !== undefined) text += `tensor ${JSON.stringify(d.tensor)}: `;
  if (d.field !== undefined) text += `field ${JSON.stringify(d.field)}: `;
  text += d.problem;
  const parts = [d.expected !== undefined ? `expected ${d.expected}` : '', d.received !== undefined ? `received ${d.received}` : ''].filter(Boolean);
  if (parts.length > 0) text += ` (${parts.join(', ')})`;
  if (d.hint !== undefined) text += `. ${d.hint}`;
  return text;
}

/** A short, readable rendering of a JSON value for `received`: long values are cut. */
export function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
  const received = 'input' in issue && issue.input !== undefined ? show(issue.input) : 'nothing';
  switch (issue.code) {
    case 'invalid_type':
      return { problem: 'wrong type', expected: issue.expected, received };
    case 'invalid_value':
      return { problem: 'unsupported value', expected: `one of ${issue.values.map((v) => show(v)).join(', ')}`, received };
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

// Errors raised by the masked-LM data pipeline: one class, a stable code, text rendered in one place.

export type PretrainErrorCode =
  /** A corpus file is missing or unreadable. */
  | 'CORPUS_NOT_FOUND'
  /** A JSONL line is not an object, or lacks a string text field. */
  | 'CORPUS_BAD_LINE'
  /** The corpus has no non-blank text. */
  | 'CORPUS_EMPTY'
  /** An option (probability, batch size, cursor, vocabulary) is out of range. */
  | 'BAD_OPTION'
  /** The tokenizer does not fit the model or the masking (no mask token, pad id ≠ position padding index). */
  | 'TOKENIZER_MISMATCH';

export interface PretrainErrorDetails {
  readonly code: PretrainErrorCode;
  /** Where: `file:line` for corpus lines, the option's name for options. */
  readonly where: string;
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What the caller can do about it. */
  readonly hint?: string;
}

export class PretrainError extends Error {
  readonly code: PretrainErrorCode;
  readonly where: string;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(details: PretrainErrorDetails, options?: ErrorOptions) {
    super(render(details), options);
    this.name = 'PretrainError';
    this.code = details.code;
    this.where = details.where;
    this.expected = details.expected;
    this.received = details.received;
  }
}

function render(d: PretrainErrorDetails): string {
  let text = `${d.where}: ${d.problem}`;
  const parts = [d.expected !== undefined ? `expected ${d.expected}` : '', d.received !== undefined ? `received ${d.received}` : ''].filter(Boolean);
  if (parts.length > 0) text += ` (${parts.join(', ')})`;
  if (d.hint !== undefined) text += `; ${d.hint}`;
  return text;
}

/** Short, quoted preview of a value for the `received` part of a message. */
export function preview(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Errors raised by tokenizer loading, encoding, corpus reading and training: one class, stable codes.
export type TokenizerErrorCode =
  | 'TOKENIZER_FILE_NOT_FOUND'
  | 'TOKENIZER_INVALID_JSON'
  | 'TOKENIZER_INVALID_FORMAT'
  | 'TOKENIZER_REJECTED'
  | 'TOKENIZER_WRITE_FAILED'
  | 'TOKENIZER_MISSING_SPECIAL_TOKEN'
  | 'TOKENIZER_INVALID_OPTIONS'
  | 'TOKENIZER_SEQUENCE_TOO_LONG'
  | 'CORPUS_FILE_NOT_FOUND'
  | 'CORPUS_INVALID_LINE'
  | 'CORPUS_EMPTY'
  | 'TRAIN_INVALID_OPTIONS'
  | 'TRAIN_FAILED';

export class TokenizerError extends Error {
  constructor(
    readonly code: TokenizerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** The message of anything thrown, for wrapping library errors (the native binding throws plain Errors). */
export function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Short, quoted preview of a value for "received …" parts of messages. */
export function preview(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

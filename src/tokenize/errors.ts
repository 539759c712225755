// The tokenizer module's error: an XlmtError (codes in src/errors/codes/train.ts) that names its area.
import { XlmtError, type ErrorData } from '../errors/index.ts';

export class TokenizerError extends XlmtError {
  constructor(data: ErrorData, options?: ErrorOptions) {
    super(data, options);
    this.name = 'TokenizerError';
  }
}

/** The message of anything thrown, for wrapping library errors (the native binding throws plain Errors). */
export function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { preview } from '../errors/index.ts';

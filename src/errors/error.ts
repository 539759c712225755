// The one error type of xlmt: a stable code from the registry, the problem, and where/expected/received/hint as
// data. Modules raise it directly or through a thin subclass that only names their area.
import { CODES, EXIT_STATUS, type ErrorCode } from './registry.ts';
import { renderText } from './render.ts';
import type { ErrorKind, Where } from './types.ts';

export interface ErrorData<C extends ErrorCode = ErrorCode> {
  readonly code: C;
  /** What went wrong, one sentence without the location (that is `where`). */
  readonly message: string;
  readonly where?: Where;
  readonly expected?: string;
  readonly received?: string;
  /** What to do about it, a sentence of its own. */
  readonly hint?: string;
  /** Further data for machines, such as the list of data issues or the known tasks. JSON-serializable. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error as JSON: what `--json` prints and what the HTTP service's error bodies are made from. */
export type ErrorJson = ErrorData & { readonly kind: ErrorKind };

export class XlmtError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** The problem alone; `message` is the whole rendered text (where: problem (expected; received). Hint). */
  readonly problem: string;
  readonly where: Where | undefined;
  readonly expected: string | undefined;
  readonly received: string | undefined;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(data: ErrorData<C>, options?: ErrorOptions) {
    super(renderText(data), options);
    this.name = 'XlmtError';
    this.code = data.code;
    this.problem = data.message;
    this.where = data.where;
    this.expected = data.expected;
    this.received = data.received;
    this.hint = data.hint;
    this.details = data.details;
  }

  get kind(): ErrorKind {
    return CODES[this.code].kind;
  }

  /** The command line's exit status for this error. */
  get exitStatus(): number {
    return EXIT_STATUS[this.kind];
  }

  toJSON(): ErrorJson {
    const json: Record<string, unknown> = { code: this.code, kind: this.kind, message: this.problem };
    if (this.where !== undefined) json.where = this.where;
    if (this.expected !== undefined) json.expected = this.expected;
    if (this.received !== undefined) json.received = this.received;
    if (this.hint !== undefined) json.hint = this.hint;
    if (this.details !== undefined) json.details = this.details;
    return json as unknown as ErrorJson;
  }
}

const SYSTEM_CODES: Readonly<Record<string, ErrorCode>> = { ENOENT: 'FILE_NOT_FOUND', ENOTDIR: 'FILE_NOT_FOUND' };

/**
 * Anything thrown, as an XlmtError: XlmtErrors as they are; Node's file-system errors as FILE_NOT_FOUND or
 * IO_FAILED naming their path; everything else as INTERNAL, with the original as `cause`.
 */
export function toXlmtError(error: unknown): XlmtError {
  if (error instanceof XlmtError) return error;
  const system = error as Partial<NodeJS.ErrnoException>;
  if (error instanceof Error && typeof system.code === 'string' && typeof system.syscall === 'string') {
    const code = SYSTEM_CODES[system.code] ?? 'IO_FAILED';
    const path = typeof system.path === 'string' ? system.path : undefined;
    const problem = code === 'FILE_NOT_FOUND' ? 'no such file or directory' : `${system.syscall} failed: ${system.code}`;
    return new XlmtError({ code, message: problem, ...(path === undefined ? {} : { where: { file: path } }) }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new XlmtError({ code: 'INTERNAL', message, hint: 'This is a bug in xlmt or a library it uses; please report it with the command that raised it.' }, { cause: error });
}

// Errors of `xlmt baseline` about its options and model directories; problems in data rows stay DataIssues,
// as everywhere else. One class, a stable code, the text rendered by problemText.
import { problemText } from '../util/problem-text.ts';

export type BaselineErrorCode =
  /** A flag value that cannot work: a task name, an output path, a setting out of range. */
  | 'BAD_OPTION'
  /** --model names no baseline directory. */
  | 'NOT_A_MODEL'
  /** baseline.json or its tensors are unreadable, of another format or version, or disagree. */
  | 'BAD_MODEL'
  /** A task of the schema has no labeled training row to fit it on. */
  | 'NO_TRAINING_ROWS';

export interface BaselineErrorDetails {
  readonly code: BaselineErrorCode;
  /** The flag or file concerned, such as `--out` or `runs/baseline/baseline.json`. */
  readonly where: string;
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What to do about it, a sentence of its own. */
  readonly hint?: string;
}

export class BaselineError extends Error {
  readonly code: BaselineErrorCode;
  readonly where: string;

  constructor(details: BaselineErrorDetails) {
    super(problemText(details));
    this.name = 'BaselineError';
    this.code = details.code;
    this.where = details.where;
  }
}

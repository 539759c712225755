// Errors raised by `xlmt predict` about the job itself (options, resume state); problems in input rows are
// DataIssues, like every other data file's. One class, a stable code, the text rendered in one place.
import { problemText } from '../util/problem-text.ts';

export type PredictErrorCode =
  /** A malformed or conflicting option: --format, --keep, --chunk-size, field names. */
  | 'BAD_OPTION'
  /** The input file differs from the one a saved progress file was recorded for. */
  | 'INPUT_CHANGED'
  /** The options differ from those the interrupted run was started with. */
  | 'OPTIONS_CHANGED'
  /** The progress file is unreadable, or the output is shorter than it records. */
  | 'BAD_PROGRESS';

export interface PredictErrorDetails {
  readonly code: PredictErrorCode;
  /** The option or file concerned, such as `--keep` or `out.jsonl.progress.json`. */
  readonly where: string;
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What to do about it. */
  readonly hint?: string;
}

export class PredictError extends Error {
  readonly code: PredictErrorCode;
  readonly where: string;

  constructor(details: PredictErrorDetails) {
    // Hints here are sentences of their own, so they start with a capital.
    const { hint } = details;
    super(problemText({ ...details, ...(hint === undefined ? {} : { hint: `${hint.charAt(0).toUpperCase()}${hint.slice(1)}` }) }));
    this.name = 'PredictError';
    this.code = details.code;
    this.where = details.where;
  }
}

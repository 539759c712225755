// Errors raised by `xlmt experiment`: one class, a stable code, the text rendered in one place.
import { problemText } from '../util/problem-text.ts';

export type ExperimentErrorCode =
  /** A malformed option value: --seeds, --compare, --tasks, --languages, --min-rows. */
  | 'BAD_OPTION'
  | 'UNKNOWN_TASK'
  | 'UNKNOWN_LANGUAGE'
  /** A comparison the data or the selection cannot support (multi-task with one task, nothing left to compare). */
  | 'CANNOT_COMPARE'
  /** The base configuration has no dev file, or a selected task has no dev rows or no training rows. */
  | 'NO_DATA'
  /** A filtered data file would change under runs that already trained on the old one. */
  | 'DATA_CHANGED';

export interface ExperimentErrorDetails {
  readonly code: ExperimentErrorCode;
  /** The option, file or directory concerned, such as `--seeds` or `exp/data/single-task/topics/train.jsonl`. */
  readonly where: string;
  readonly problem: string;
  readonly expected?: string;
  readonly received?: string;
  /** What to do about it. */
  readonly hint?: string;
}

export class ExperimentError extends Error {
  readonly code: ExperimentErrorCode;
  readonly where: string;

  constructor(details: ExperimentErrorDetails) {
    super(problemText(details));
    this.name = 'ExperimentError';
    this.code = details.code;
    this.where = details.where;
  }
}

// Errors raised by `xlmt experiment`: one class, a stable code, the text rendered in one place.

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
    super(render(details));
    this.name = 'ExperimentError';
    this.code = details.code;
    this.where = details.where;
  }
}

function render(d: ExperimentErrorDetails): string {
  let text = `${d.where}: ${d.problem}`;
  const parts = [d.expected === undefined ? null : `expected ${d.expected}`, d.received === undefined ? null : `received ${d.received}`];
  const shown = parts.filter((p) => p !== null);
  if (shown.length > 0) text += ` (${shown.join('; ')})`;
  if (d.hint !== undefined) text += `. ${d.hint}`;
  return text;
}

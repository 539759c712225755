// One validated example: text, language and label indices per task, in the order of the task schema's labels.

/** A class index for a multiclass task; ascending label indices for a multilabel task (`[]` = none of them). */
export type LabelValue = number | readonly number[];

export interface Example {
  /** From the file, or `<file name>:<line>` when the row has none. */
  readonly id: string;
  readonly text: string;
  readonly lang: string;
  /** Only the tasks the row is labeled for: partial labels are the norm. */
  readonly labels: ReadonlyMap<string, LabelValue>;
  /** Where the row starts in its file, for messages about it later (tokenization, evaluation). */
  readonly line: number;
}

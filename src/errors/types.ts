// The vocabulary of the error model: what kind of failure a code is, and what a code's registry entry holds.

/**
 * What a failure is, which decides the command line's exit status:
 * `usage` a flag, argument or API call that cannot work; `input` a data, model or configuration file that is wrong;
 * `io` the file system or the network failed or a path is missing; `internal` a bug or an unexpected failure.
 */
export type ErrorKind = 'usage' | 'input' | 'io' | 'internal';

export interface CodeEntry {
  readonly kind: ErrorKind;
  /** One line for docs/errors.md: when the code is raised. */
  readonly summary: string;
  /** The HTTP status `xlmt serve` answers with, for codes a request can meet. */
  readonly http?: number;
}

export type CodeTable = Readonly<Record<string, CodeEntry>>;

/** Where a problem is, as data: any of a file and line, a field or flag, a graph node, a tensor, a task. */
export interface Where {
  readonly file?: string;
  /** 1-based line of `file`. */
  readonly line?: number;
  /** A field (dotted or JSON path), a column or a command-line flag such as `--out`. */
  readonly field?: string;
  /** A graph node or ONNX value name. */
  readonly node?: string;
  /** A tensor, by its name in the file. */
  readonly tensor?: string;
  readonly task?: string;
  /** An API or component, such as `AdamW.step`, when no file or field says it better. */
  readonly api?: string;
}

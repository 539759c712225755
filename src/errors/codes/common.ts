// Codes any part of xlmt raises: options, files, output directories, non-finite numbers, bugs.
import type { CodeTable } from '../types.ts';

export const commonCodes = {
  BAD_OPTION: { kind: 'usage', summary: 'a command-line flag or option value that cannot work; `where.field` names the flag' },
  MISSING_OPTION: { kind: 'usage', summary: 'a required flag is missing; `where.field` names it' },
  BAD_ARGUMENT: { kind: 'usage', summary: 'a library function was called with an argument it cannot take; `where.api` names the function' },
  FILE_NOT_FOUND: { kind: 'io', summary: 'a file or directory that was named does not exist' },
  IO_FAILED: { kind: 'io', summary: 'reading or writing a file failed (permissions, a full disk); the cause is in the message' },
  OUT_IS_INPUT: { kind: 'usage', summary: 'an output path is, contains or lies inside one of the command\'s inputs (links and hard links count)' },
  OUT_NOT_EMPTY: { kind: 'usage', summary: 'an output directory exists, is not empty and holds no earlier output of the same command; nothing was touched' },
  OUT_OF_ANOTHER_COMMAND: { kind: 'usage', summary: 'an output directory holds the output of a different command; nothing was touched' },
  NON_FINITE: { kind: 'input', http: 500, summary: 'a weight, gradient, score or statistic is NaN or infinite; `where` names the file and tensor or the node' },
  INTERNAL: { kind: 'internal', summary: 'an unexpected failure: a bug in xlmt or a library; the message and, with --json, the stack say where', http: 500 },
} as const satisfies CodeTable;

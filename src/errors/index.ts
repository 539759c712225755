// The error model: one type, one registry of codes, one text and one JSON rendering (docs/errors.md).
export { XlmtError, toXlmtError, type ErrorData, type ErrorJson } from './error.ts';
export { CODES, CODE_TABLES, EXIT_STATUS, codeEntry, isErrorCode, type ErrorCode, type HttpErrorCode } from './registry.ts';
export { printable, preview, renderText, whereText } from './render.ts';
export type { CodeEntry, CodeTable, ErrorKind, Where } from './types.ts';

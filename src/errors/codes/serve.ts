// Codes `xlmt serve` answers requests with, each with its one HTTP status: the table clients write their error
// handling against. INTERNAL (500) is a common code.
import type { CodeTable } from '../types.ts';

export const serveCodes = {
  INVALID_JSON: { kind: 'usage', http: 400, summary: 'the body is not valid JSON (or is empty while declared as JSON)' },
  INVALID_REQUEST: { kind: 'usage', http: 400, summary: 'a field is missing, unknown or of the wrong type; details.field names it' },
  EMPTY_TEXTS: { kind: 'usage', http: 400, summary: '`texts` is an empty list' },
  TOO_MANY_TEXTS: { kind: 'usage', http: 400, summary: 'more texts than --max-texts in one request' },
  TEXT_TOO_LONG: { kind: 'usage', http: 400, summary: 'a text is longer than --max-chars characters (with --on-long-text reject)' },
  UNKNOWN_TASK: { kind: 'usage', http: 400, summary: 'a requested task is not one of the model\'s; details.known lists them' },
  UNAUTHORIZED: { kind: 'usage', http: 401, summary: 'the API key is missing or wrong' },
  NOT_FOUND: { kind: 'usage', http: 404, summary: 'no such route' },
  RELOAD_IN_PROGRESS: { kind: 'usage', http: 409, summary: 'a model reload is already running' },
  BODY_TOO_LARGE: { kind: 'usage', http: 413, summary: 'the body is larger than --body-limit bytes' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'usage', http: 415, summary: 'the body is not application/json' },
  RELOAD_FAILED: { kind: 'input', http: 500, summary: 'the new model could not be loaded; the previous one keeps serving' },
  NOT_READY: { kind: 'io', http: 503, summary: 'the model is still loading and warming up' },
  QUEUE_FULL: { kind: 'io', http: 503, summary: 'more texts are waiting than --max-queue; retry later' },
  SHUTTING_DOWN: { kind: 'io', http: 503, summary: 'the server is draining its queue before it stops' },
} as const satisfies CodeTable;

// Codes `xlmt serve` answers requests with, each with its one HTTP status: the table clients write their error
// handling against. INTERNAL (500) and NON_FINITE (500) are common codes.
import type { CodeTable } from '../types.ts';

export const serveCodes = {
  INVALID_JSON: { kind: 'usage', http: 400, summary: 'the body is not valid JSON (or is empty while declared as JSON)' },
  INVALID_UTF8: { kind: 'usage', http: 400, summary: 'the body is not valid UTF-8; details.offset is the first bad byte' },
  INVALID_REQUEST: { kind: 'usage', http: 400, summary: 'a field is missing, unknown, forbidden (`__proto__`) or of the wrong type; details.field names it' },
  EMPTY_TEXTS: { kind: 'usage', http: 400, summary: '`texts` is an empty list' },
  BLANK_TEXT: { kind: 'usage', http: 400, summary: 'a text is empty or only whitespace; details.field names it (`$.texts[i]`)' },
  TOO_MANY_TEXTS: { kind: 'usage', http: 400, summary: 'more texts than --max-texts in one request' },
  TEXT_TOO_LONG: { kind: 'usage', http: 400, summary: 'a text is longer than --max-chars characters (with --on-long-text reject)' },
  UNKNOWN_TASK: { kind: 'usage', http: 400, summary: 'a requested task is not one of the model\'s; details.known lists them' },
  BAD_URL: { kind: 'usage', http: 400, summary: 'the URL is malformed (a bad percent-encoding such as `%zz`)' },
  MALFORMED_HTTP: { kind: 'usage', http: 400, summary: 'the request is not valid HTTP/1.1 (an unknown method, a broken header line); the connection is closed' },
  REQUEST_ABORTED: { kind: 'usage', http: 400, summary: 'the client closed the connection before sending its whole body; logged, no answer can reach it' },
  UNAUTHORIZED: { kind: 'usage', http: 401, summary: 'the API key is missing, wrong, or two different keys were sent' },
  NOT_FOUND: { kind: 'usage', http: 404, summary: 'no such route' },
  REQUEST_TIMEOUT: { kind: 'usage', http: 408, summary: 'the request (headers and body) did not arrive within --request-timeout seconds' },
  RELOAD_IN_PROGRESS: { kind: 'usage', http: 409, summary: 'a model reload is already running' },
  BODY_TOO_LARGE: { kind: 'usage', http: 413, summary: 'the body is larger than --body-limit bytes' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'usage', http: 415, summary: 'the body is not application/json in UTF-8' },
  RELOAD_FAILED: { kind: 'input', http: 422, summary: 'the directory to reload could not be loaded (missing, not an export, broken files); the previous model keeps serving' },
  HEADERS_TOO_LARGE: { kind: 'usage', http: 431, summary: 'the request headers are larger than Node.js accepts (16 KiB)' },
  NOT_READY: { kind: 'io', http: 503, summary: 'the model is still loading and warming up' },
  QUEUE_FULL: { kind: 'io', http: 503, summary: 'more texts are waiting than --max-queue; retry later' },
  SHUTTING_DOWN: { kind: 'io', http: 503, summary: 'the server is draining its queue before it stops' },
} as const satisfies CodeTable;

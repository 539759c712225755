// Every error `xlmt serve` answers, each with a stable code and one HTTP status: the table clients write their
// error handling against. Errors are data ({code, message, details}); Fastify's own errors (validation, body
// parsing, limits) and the classifier's are translated here and nowhere else.
import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { UnknownTaskError } from '../infer/types.ts';

export const ERRORS = {
  INVALID_JSON: { status: 400, summary: 'the body is not valid JSON (or is empty while declared as JSON)' },
  INVALID_REQUEST: { status: 400, summary: 'a field is missing, unknown or of the wrong type; details.field names it' },
  EMPTY_TEXTS: { status: 400, summary: '`texts` is an empty list' },
  TOO_MANY_TEXTS: { status: 400, summary: 'more texts than --max-texts in one request' },
  TEXT_TOO_LONG: { status: 400, summary: 'a text is longer than --max-chars characters (with --on-long-text reject)' },
  UNKNOWN_TASK: { status: 400, summary: 'a requested task is not one of the model\'s; details.known lists them' },
  UNAUTHORIZED: { status: 401, summary: 'the API key is missing or wrong' },
  NOT_FOUND: { status: 404, summary: 'no such route' },
  RELOAD_IN_PROGRESS: { status: 409, summary: 'a model reload is already running' },
  BODY_TOO_LARGE: { status: 413, summary: 'the body is larger than --body-limit bytes' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'the body is not application/json' },
  INTERNAL: { status: 500, summary: 'an unexpected failure; the server log has the cause' },
  RELOAD_FAILED: { status: 500, summary: 'the new model could not be loaded; the previous one keeps serving' },
  NOT_READY: { status: 503, summary: 'the model is still loading and warming up' },
  QUEUE_FULL: { status: 503, summary: 'more texts are waiting than --max-queue; retry later' },
  SHUTTING_DOWN: { status: 503, summary: 'the server is draining its queue before it stops' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

export class ServeError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'ServeError';
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/**
 * Any error raised while answering a request, as a ServeError. `body` is the parsed request body, used to say
 * how far over a limit a request went.
 */
export function toServeError(error: unknown, body?: unknown): ServeError {
  if (error instanceof ServeError) return error;
  if (error instanceof UnknownTaskError) {
    return new ServeError('UNKNOWN_TASK', error.message, { task: error.task, known: error.known });
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation && fastify.validation.length > 0) return fromValidation(fastify.validation[0] as FastifySchemaValidationError, body);
  switch (fastify.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ServeError('INVALID_JSON', 'the body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServeError('INVALID_JSON', 'the body is empty but its content-type is application/json; send a JSON object');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServeError('BODY_TOO_LARGE', 'the body is larger than the server accepts; send fewer or shorter texts per request');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ServeError('UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with "content-type: application/json"');
    default:
      // JSON.parse errors reach here when a body parser throws a plain SyntaxError with Fastify's status 400.
      if (error instanceof SyntaxError && fastify.statusCode === 400) return new ServeError('INVALID_JSON', `the body is not valid JSON: ${error.message}`);
      return new ServeError('INTERNAL', 'internal error; the server log has the cause');
  }
}

/** A JSON path such as `$.texts[2]` from Ajv's instance path `/texts/2` and, for object rules, the property. */
export function fieldPath(instancePath: string, property?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (property !== undefined) parts.push(property);
  return parts.reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : `${path}.${p}`), '$');
}

/** Ajv's first failed rule, as the error a client can act on. */
function fromValidation(issue: FastifySchemaValidationError, body: unknown): ServeError {
  const { keyword, instancePath, params } = issue;
  const texts = (body as { texts?: unknown } | undefined)?.texts;
  if (instancePath === '/texts' && keyword === 'minItems') {
    return new ServeError('EMPTY_TEXTS', '$.texts is empty; send at least one text', { field: '$.texts' });
  }
  if (instancePath === '/texts' && keyword === 'maxItems') {
    const received = Array.isArray(texts) ? texts.length : undefined;
    return new ServeError('TOO_MANY_TEXTS', `$.texts has ${received ?? 'too many'} texts; at most ${String(params.limit)} per request`, {
      field: '$.texts', limit: params.limit, ...(received !== undefined ? { received } : {}),
    });
  }
  const textIndex = /^\/texts\/(\d+)$/.exec(instancePath);
  if (textIndex && keyword === 'maxLength') {
    const index = Number(textIndex[1]);
    const text = Array.isArray(texts) ? texts[index] : undefined;
    const chars = typeof text === 'string' ? [...text].length : undefined;
    return new ServeError('TEXT_TOO_LONG', `$.texts[${index}] has ${chars ?? 'too many'} characters; at most ${String(params.limit)}`, {
      field: `$.texts[${index}]`, index, limit: params.limit, ...(chars !== undefined ? { chars } : {}),
    });
  }
  return invalidRequest(issue);
}

function invalidRequest({ keyword, instancePath, params, message }: FastifySchemaValidationError): ServeError {
  switch (keyword) {
    case 'required': {
      const field = fieldPath(instancePath, String(params.missingProperty));
      return new ServeError('INVALID_REQUEST', `${field} is required`, { field, rule: keyword });
    }
    case 'additionalProperties': {
      const field = fieldPath(instancePath, String(params.additionalProperty));
      return new ServeError('INVALID_REQUEST', `${field} is not a field of this request`, { field, rule: keyword });
    }
    case 'type': {
      const field = fieldPath(instancePath);
      const expected = String(params.type);
      const what = field === '$' ? 'the body' : field;
      return new ServeError('INVALID_REQUEST', `${what} must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`, { field, rule: keyword, expected });
    }
    case 'minItems': {
      const field = fieldPath(instancePath);
      return new ServeError('INVALID_REQUEST', `${field} needs at least ${String(params.limit)} item(s)`, { field, rule: keyword, limit: params.limit });
    }
    case 'uniqueItems': {
      const field = fieldPath(instancePath);
      const [first, second] = [Number(params.j), Number(params.i)].sort((a, b) => a - b);
      return new ServeError('INVALID_REQUEST', `${field}[${first}] and ${field}[${second}] are the same; list each item once`, {
        field, rule: keyword, duplicates: [first, second],
      });
    }
    default: {
      const field = fieldPath(instancePath);
      return new ServeError('INVALID_REQUEST', `${field} ${message ?? `breaks the rule "${keyword}"`}`, { field, rule: keyword, ...params });
    }
  }
}

// Every error `xlmt serve` answers is an XlmtError whose code has an HTTP status in the registry
// (src/errors/codes/serve.ts, plus INTERNAL and NON_FINITE from codes/common.ts). Fastify's own errors
// (validation, limits, bad URLs) and the classifier's are translated here and nowhere else, into the one body
// {"error": {code, message, details?}}.
import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { CODES, XlmtError, type CodeEntry, type ErrorCode, type HttpErrorCode } from '../errors/index.ts';

/** Every code a request can be answered with, in registry order. */
export const ERROR_CODES: readonly HttpErrorCode[] = (Object.keys(CODES) as ErrorCode[]).filter(isHttpCode);

function isHttpCode(code: ErrorCode): code is HttpErrorCode {
  return (CODES[code] as CodeEntry).http !== undefined;
}

export interface ErrorBody {
  readonly error: {
    readonly code: HttpErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/** An XlmtError raised by the service itself, with a code a request can be answered with. */
export class ServeError extends XlmtError<HttpErrorCode> {
  constructor(code: HttpErrorCode, message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
    super({ code, message, ...(details === undefined ? {} : { details }) }, options);
    this.name = 'ServeError';
  }
}

/** An error whose code has an HTTP status: it can be answered as it is. */
export type AnswerableError = XlmtError<HttpErrorCode>;

export function httpStatus(error: AnswerableError): number {
  return (CODES[error.code] as CodeEntry).http ?? 500;
}

export function errorBody(error: AnswerableError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
}

const INTERNAL_MESSAGE = 'internal error; the server log has the cause';

/**
 * Any error raised while answering a request, as one that can be answered. `body` is the parsed request body,
 * used to say how far over a limit a request went. XlmtErrors with an HTTP code pass through (INTERNAL and
 * NON_FINITE with a message that reveals nothing of the server); any other XlmtError reaching a request is a
 * fault of the server (the request was validated before it got anywhere), so INTERNAL, like anything else.
 */
export function toServeError(error: unknown, body?: unknown): AnswerableError {
  const unknown = unknownTask(error);
  if (unknown) return new ServeError('UNKNOWN_TASK', `unknown task ${JSON.stringify(unknown.task)}; this model has: ${unknown.known.join(', ')}`, unknown);
  if (error instanceof ServeError) return error;
  if (error instanceof XlmtError) {
    const code: ErrorCode = error.code;
    if (code === 'NON_FINITE') {
      return new ServeError('NON_FINITE', 'the model produced NaN or infinite scores for these texts; the server log says where', undefined, { cause: error });
    }
    if (code !== 'INTERNAL' && isHttpCode(code)) return error as AnswerableError;
    return new ServeError('INTERNAL', INTERNAL_MESSAGE, undefined, { cause: error });
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation && fastify.validation.length > 0) return fromValidation(fastify.validation[0] as FastifySchemaValidationError, body);
  switch (fastify.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ServeError('UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with "content-type: application/json"');
    case 'FST_ERR_BAD_URL':
      return new ServeError('BAD_URL', `${fastify.message ?? 'the URL is malformed'}; percent-encode it (%25 for a literal %)`);
    default:
      return new ServeError('INTERNAL', INTERNAL_MESSAGE, undefined, { cause: error });
  }
}

/**
 * The task and the model's tasks of an unknown-task error: src/infer's XlmtError (code UNKNOWN_TASK,
 * details {task, known}) or its older UnknownTaskError (fields task, known).
 */
function unknownTask(error: unknown): { task: string; known: string[] } | null {
  if (!(error instanceof Error)) return null;
  const e = error as Error & { code?: unknown; task?: unknown; known?: unknown; details?: { task?: unknown; known?: unknown } };
  if (e.code !== 'UNKNOWN_TASK' && e.name !== 'UnknownTaskError') return null;
  const task = e.details?.task ?? e.task;
  const known = e.details?.known ?? e.known;
  if (typeof task !== 'string' || !Array.isArray(known)) return null;
  return { task, known: known.map(String) };
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
  if (textIndex && keyword === 'pattern') {
    const index = Number(textIndex[1]);
    return new ServeError('BLANK_TEXT', `$.texts[${index}] is empty or only whitespace; send some text to classify`, { field: `$.texts[${index}]`, index });
  }
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

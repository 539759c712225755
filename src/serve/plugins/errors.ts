// One error shape for every failure: anything thrown while answering a request (ours, Fastify's validation and
// body parsing, the classifier's), a malformed URL, and HTTP that Node cannot even parse all become
// {"error": {code, message, details}} with the code's status.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, httpStatus, ServeError, toServeError, type AnswerableError } from '../errors.ts';

/** Called for every error answer (metrics). */
export type ErrorListener = (error: AnswerableError) => void;

export interface ErrorsPluginOptions {
  readonly onError?: ErrorListener;
}

/** Answers `error` in the one shape, logging what is the server's to fix and what a client left unfinished. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply, onError?: ErrorListener): FastifyReply {
  const served = toServeError(error, request.body);
  logError(request.log, served, error);
  onError?.(served);
  const status = httpStatus(served);
  if (status === 503) reply.header('retry-after', '1');
  if (served.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  // The rest of a late body may never come: the connection cannot carry another request.
  if (served.code === 'REQUEST_TIMEOUT') reply.header('connection', 'close');
  return reply.code(status).send(errorBody(served));
}

function logError(log: FastifyBaseLogger, served: AnswerableError, original: unknown): void {
  // Client errors and load shedding show in the request log's status code; failures of ours are logged in full.
  switch (served.code) {
    case 'INTERNAL':
    case 'NON_FINITE':
      log.error({ err: original }, served.code === 'INTERNAL' ? 'internal error' : 'non-finite model output');
      break;
    case 'RELOAD_FAILED':
      log.error({ code: served.code, err: served.cause }, served.message);
      break;
    case 'REQUEST_TIMEOUT':
    case 'REQUEST_ABORTED':
      log.info({ code: served.code, details: served.details }, served.message);
      break;
    default:
  }
}

export const errorsPlugin = fp<ErrorsPluginOptions>(async (app, { onError }) => {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply, onError));
  app.setNotFoundHandler((request) => {
    throw new ServeError('NOT_FOUND', `no route ${request.method} ${request.url}; GET /openapi.json lists the routes`);
  });
}, { name: 'xlmt-errors' });

/**
 * The Fastify constructor options for the failures that never reach a route, so they are answered in the one
 * shape too: a URL Fastify cannot decode, and bytes Node's HTTP parser rejects (an unknown method, a broken
 * header, headers too large, headers that never finish). `busy` says whether a request on a connection is being
 * answered; then the connection is only closed, since an answer written now would cut into that one.
 */
export function frameworkErrorOptions(onError: ErrorListener, busy: (socket: Socket) => boolean): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    frameworkErrors: (error, request, reply) => sendError(error, request, reply, onError),
    clientErrorHandler(this: { log: FastifyBaseLogger }, error: Error & { code?: string }, socket: Socket) {
      // A reset connection is gone: there is nobody to answer.
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const served = fromClientError(error);
      onError(served);
      this.log.info({ code: served.code, reason: error.code }, served.message);
      if (socket.writable && !busy(socket)) {
        const status = httpStatus(served);
        const body = JSON.stringify(errorBody(served));
        socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n`
          + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
      socket.destroySoon();
    },
  };
}

/** What Node's HTTP parser (llhttp) or its timers reported, as an answer. */
function fromClientError(error: Error & { code?: string }): ServeError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ServeError('HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts (16 KiB); send fewer or shorter headers');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ServeError('REQUEST_TIMEOUT', 'the request did not arrive in time; send the headers and body without pausing');
    case 'HPE_INVALID_METHOD':
      return new ServeError('MALFORMED_HTTP', 'the request method is not an HTTP method; the routes take GET and POST (GET /openapi.json lists them)', { reason: error.code });
    default:
      return new ServeError('MALFORMED_HTTP', `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'}: ${error.message}); the connection is closed`, {
        reason: error.code ?? 'unknown',
      });
  }
}

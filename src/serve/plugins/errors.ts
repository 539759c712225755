// One error shape for every failure: anything thrown while answering a request (ours, Fastify's validation
// and body parsing, the classifier's) becomes {"error": {code, message, details}} with the code's status.
import fp from 'fastify-plugin';
import { ServeError, toServeError } from '../errors.ts';

export interface ErrorsPluginOptions {
  /** Called for every error response (metrics). */
  readonly onError?: (error: ServeError) => void;
}

export const errorsPlugin = fp<ErrorsPluginOptions>(async (app, { onError }) => {
  app.setErrorHandler((error, request, reply) => {
    const served = toServeError(error, request.body);
    // Client errors and load shedding show in the request log's status code; only failures of ours are logged.
    if (served.code === 'INTERNAL') request.log.error({ err: error }, 'internal error');
    else if (served.code === 'RELOAD_FAILED') request.log.error({ code: served.code }, served.message);
    onError?.(served);
    if (served.status === 503) reply.header('retry-after', '1');
    if (served.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    return reply.code(served.status).send(served.body());
  });

  app.setNotFoundHandler((request) => {
    throw new ServeError('NOT_FOUND', `no route ${request.method} ${request.url}; GET /openapi.json lists the routes`);
  });
}, { name: 'xlmt-errors' });

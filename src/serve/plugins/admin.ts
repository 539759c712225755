// Operations behind the API key: POST /admin/reload swaps in a freshly loaded model without dropping requests.
import type { FastifyPluginAsync } from 'fastify';
import type { ModelSlot } from '../model-slot.ts';
import { errorResponses, reloadRequest, reloadResponse, type ReloadBody } from '../schemas.ts';

export interface AdminPluginOptions {
  readonly reload: ModelSlot['reload'];
}

export const adminPlugin: FastifyPluginAsync<AdminPluginOptions> = async (app, { reload }) => {
  app.post<{ Body: ReloadBody | undefined }>('/admin/reload', {
    schema: {
      summary: 'Load a model (default: the served directory again), warm it up, switch to it, release the old one',
      description: 'Queued and in-flight requests are answered, by the old model or the new one; none is dropped. '
        + 'Answers once the old model is released.',
      tags: ['operations'],
      body: reloadRequest,
      response: { 200: reloadResponse, ...errorResponses(400, 401, 409, 415, 500, 503) },
    },
    // The body is optional: none means {}.
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request) => reload(request.body?.dir));
};

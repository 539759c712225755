// Probes for orchestrators: /healthz answers while the process can serve HTTP at all; /readyz only once a
// warmed-up model is loaded and the server is not shutting down, so traffic is sent only where it can be served.
import type { FastifyPluginAsync } from 'fastify';
import { ServeError } from '../errors.ts';
import { modelId, type ModelSlot } from '../model-slot.ts';
import { errorResponses, statusResponse } from '../schemas.ts';

export interface HealthPluginOptions {
  readonly slot: ModelSlot;
}

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, { slot }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: { summary: 'Liveness: the process answers HTTP', tags: ['operations'], response: { 200: statusResponse } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: { public: true },
    schema: {
      summary: 'Readiness: a warmed-up model is loaded (503 NOT_READY before, 503 SHUTTING_DOWN while draining)',
      tags: ['operations'],
      response: { 200: statusResponse, ...errorResponses(503) },
    },
  }, async () => {
    const model = slot.model;
    if (!model) throw new ServeError('NOT_READY', 'the model is still loading and warming up');
    return { status: 'ready', model: modelId(model.info) };
  });
};

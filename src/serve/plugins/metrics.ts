// Request latency for every route, and the Prometheus exposition at GET /metrics.
import fp from 'fastify-plugin';
import type { ServeMetrics } from '../metrics.ts';

export interface MetricsPluginOptions {
  readonly metrics: ServeMetrics;
}

export const metricsPlugin = fp<MetricsPluginOptions>(async (app, { metrics }) => {
  app.addHook('onResponse', async (request, reply) => {
    // Unmatched URLs share one label, so a scan of random paths cannot grow the series without bound.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['operations'],
      response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}, { name: 'xlmt-metrics' });

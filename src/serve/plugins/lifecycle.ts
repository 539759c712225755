// Graceful shutdown: once app.close() begins, new requests get SHUTTING_DOWN and every answer carries
// `connection: close`; on a live server no new connection is accepted, and the open ones are closed only once
// every request sent on them has been answered and their clients have been quiet for a moment. Only then is the
// model released.
import { performance } from 'node:perf_hooks';
import fp from 'fastify-plugin';
import type { Batcher } from '../batcher.ts';
import type { Connections } from '../connections.ts';
import { ServeError } from '../errors.ts';
import type { ModelSlot } from '../model-slot.ts';

/**
 * How long a keep-alive connection that was idle when the shutdown began is left open: a request its client
 * sends meanwhile is answered (SHUTTING_DOWN, `connection: close`) instead of meeting a closed socket.
 */
export const QUIET_MS = 500;

export interface LifecyclePluginOptions {
  readonly batcher: Batcher;
  readonly slot: ModelSlot;
  readonly connections: Connections;
}

export const lifecyclePlugin = fp<LifecyclePluginOptions>(async (app, { batcher, slot, connections }) => {
  let closing = false;
  app.addHook('onRequest', async () => {
    if (closing) throw new ServeError('SHUTTING_DOWN', 'the server is shutting down; send the request to another instance');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  // Runs before Fastify closes the server and its idle connections: from here on nothing new is admitted.
  app.addHook('preClose', async () => {
    closing = true;
    if (!app.server.listening) return;
    const since = performance.now();
    connections.stopAccepting();
    await connections.quiet(QUIET_MS, since);
  });
  // Runs after the server has closed (every request answered); the drain covers requests injected in-process.
  app.addHook('onClose', async () => {
    await batcher.close();
    await slot.close();
  });
}, { name: 'xlmt-lifecycle' });

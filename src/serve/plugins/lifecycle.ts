// Graceful shutdown: once app.close() begins, new requests get SHUTTING_DOWN, the ones already queued are
// answered (their connections told to close), and only then is the model released.
import fp from 'fastify-plugin';
import type { Batcher } from '../batcher.ts';
import { ServeError } from '../errors.ts';
import type { ModelSlot } from '../model-slot.ts';

export interface LifecyclePluginOptions {
  readonly batcher: Batcher;
  readonly slot: ModelSlot;
}

export const lifecyclePlugin = fp<LifecyclePluginOptions>(async (app, { batcher, slot }) => {
  let closing = false;
  app.addHook('onRequest', async () => {
    if (closing) throw new ServeError('SHUTTING_DOWN', 'the server is shutting down; send the request to another instance');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  // Runs before the listening socket closes: from here on nothing new is admitted.
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Runs after the server has closed (in-flight requests answered); a drain covers requests injected in-process.
  app.addHook('onClose', async () => {
    await batcher.close();
    await slot.close();
  });
}, { name: 'xlmt-lifecycle' });

// `xlmt serve` as a process: binds the app, loads the model, and turns signals into operations from the moment
// the app exists: SIGTERM/SIGINT drain and stop (a second one, or --shutdown-timeout, stops at once; during
// start-up they stop without waiting for the model), SIGHUP reloads the model (during start-up, once it is loaded).
import type { EventEmitter } from 'node:events';
import { buildApp, type ServeApp } from './app.ts';
import { isLoopback, type ServeConfig } from './config.ts';
import { onnxModelLoader } from './model-loader.ts';
import type { ModelLoader } from './model-slot.ts';
import { toXlmtError } from '../errors/index.ts';

export interface RunningServer {
  readonly service: ServeApp;
  /** http://host:port actually bound (port 0 picks a free one). */
  readonly url: string;
  /** Resolves once the server has stopped: true when it drained, false when the drain timed out. */
  readonly stopped: Promise<boolean>;
  /** What SIGTERM does. */
  stop(reason: string): Promise<boolean>;
}

export interface StartOptions {
  /** Where signals come from (default: the process). */
  readonly signals?: EventEmitter;
  /** Default: the ONNX classifier of the export directory. */
  readonly loadModel?: ModelLoader;
  readonly version?: string;
}

/**
 * Binds and starts the service. Resolves once the model is loaded and warmed up, or once a signal stopped the
 * server during start-up (then `stopped` has resolved); rejects when the model does not load.
 */
export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const loadModel = options.loadModel ?? onnxModelLoader({ batchSize: config.batching.maxBatchSize, ...(config.threads ? { threads: config.threads } : {}) });
  const service = await buildApp({
    dir: config.dir,
    loadModel,
    limits: config.limits,
    batching: config.batching,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    logger: { level: config.logLevel },
    processMetrics: true,
    ...(options.version !== undefined ? { version: options.version } : {}),
  });
  const { app } = service;
  const signals = options.signals ?? process;

  let stopping: Promise<boolean> | null = null;
  let resolveStopped!: (drained: boolean) => void;
  const stopped = new Promise<boolean>((resolve) => { resolveStopped = resolve; });
  // Set once the port is bound (or binding failed): a stop waits for it, since Fastify cannot close mid-listen.
  let bound: Promise<unknown> = Promise.resolve();

  const stop = (reason: string): Promise<boolean> => {
    if (stopping) return stopping;
    const phase = service.slot.ready ? 'draining the queue' : 'before the model finished loading';
    app.log.info({ reason, queued: service.batcher.depth }, `shutting down: ${phase}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs);
      timer.unref();
    });
    const closed = bound.catch(() => undefined).then(() => app.close()).then(() => true);
    stopping = Promise.race([closed, timeout]).then((drained) => {
      clearTimeout(timer);
      if (drained) app.log.info('stopped');
      else app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'the drain did not finish in time; stopping anyway');
      for (const [signal, handler] of handlers) signals.off(signal, handler);
      resolveStopped(drained);
      return drained;
    });
    return stopping;
  };

  let reloadWhenReady = false;
  const onStop = (signal: string) => () => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: stopping without waiting for the drain');
      resolveStopped(false);
      return;
    }
    void stop(signal);
  };
  const onReload = (): void => {
    if (stopping) {
      app.log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: the server is shutting down');
      return;
    }
    if (!service.slot.ready) {
      // The load under way may have read the files before they changed: read them again once it is done.
      reloadWhenReady = true;
      app.log.info({ signal: 'SIGHUP' }, 'SIGHUP during start-up: reloading once the model is loaded');
      return;
    }
    service.reload().catch((e: unknown) => app.log.error({ err: e }, 'SIGHUP reload failed; still serving the previous model'));
  };
  const handlers: [string, () => void][] = [['SIGTERM', onStop('SIGTERM')], ['SIGINT', onStop('SIGINT')], ['SIGHUP', onReload]];
  for (const [signal, handler] of handlers) signals.on(signal, handler);

  if (!isLoopback(config.host) && config.apiKey === undefined) {
    app.log.warn({ host: config.host }, 'listening beyond loopback without an API key: anyone who reaches the port can classify and reload; set --api-key or XLMT_API_KEY');
  }
  const listening = app.listen({ host: config.host, port: config.port });
  bound = listening;
  let url: string;
  try {
    url = await listening;
  } catch (e) {
    await stop('cannot listen');
    throw e;
  }
  if (stopping) return { service, url, stopped, stop };

  const started = service.start();
  const outcome = await Promise.race([
    started.then(() => ({ kind: 'started' as const }), (error: unknown) => ({ kind: 'failed' as const, error })),
    stopped.then(() => ({ kind: 'stopped' as const })),
  ]);
  // Stopped during start-up: the load cannot be interrupted, and the closed slot discards the model it brings.
  if (outcome.kind === 'stopped' || stopping) {
    started.catch(() => undefined);
    return { service, url, stopped, stop };
  }
  if (outcome.kind === 'failed') {
    // A model the user pointed at wrongly is logged as its coded error, not as a crash with a stack trace.
    const error = toXlmtError(outcome.error);
    if (error.kind === 'internal') app.log.fatal({ err: outcome.error }, 'cannot load the model');
    else app.log.error({ error: error.toJSON() }, 'cannot load the model');
    await stop('the model did not load');
    throw outcome.error;
  }
  if (reloadWhenReady) onReload();
  return { service, url, stopped, stop };
}

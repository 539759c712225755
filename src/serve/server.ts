// `xlmt serve` as a process: binds the app, loads the model, and turns signals into operations:
// SIGTERM/SIGINT drain and stop (a second one, or --shutdown-timeout, stops at once), SIGHUP reloads the model.
import type { EventEmitter } from 'node:events';
import { buildApp, type ServeApp } from './app.ts';
import { isLoopback, type ServeConfig } from './config.ts';
import { onnxModelLoader } from './model-loader.ts';
import type { ModelLoader } from './model-slot.ts';

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
  if (!isLoopback(config.host) && config.apiKey === undefined) {
    app.log.warn({ host: config.host }, 'listening beyond loopback without an API key: anyone who reaches the port can classify and reload; set --api-key or XLMT_API_KEY');
  }
  const url = await app.listen({ host: config.host, port: config.port });

  let stopping: Promise<boolean> | null = null;
  let resolveStopped!: (drained: boolean) => void;
  const stopped = new Promise<boolean>((resolve) => { resolveStopped = resolve; });
  const signals = options.signals ?? process;

  const stop = (reason: string): Promise<boolean> => {
    if (stopping) return stopping;
    app.log.info({ reason, queued: service.batcher.depth }, 'shutting down: draining the queue');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs);
      timer.unref();
    });
    stopping = Promise.race([app.close().then(() => true), timeout]).then((drained) => {
      clearTimeout(timer);
      if (drained) app.log.info('stopped');
      else app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'the drain did not finish in time; stopping anyway');
      for (const [signal, handler] of handlers) signals.off(signal, handler);
      resolveStopped(drained);
      return drained;
    });
    return stopping;
  };

  const onStop = (signal: string) => () => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: stopping without waiting for the drain');
      resolveStopped(false);
      return;
    }
    void stop(signal);
  };
  const onReload = (): void => {
    service.reload().catch((e: unknown) => app.log.error({ err: e }, 'SIGHUP reload failed; still serving the previous model'));
  };
  const handlers: [string, () => void][] = [['SIGTERM', onStop('SIGTERM')], ['SIGINT', onStop('SIGINT')], ['SIGHUP', onReload]];
  for (const [signal, handler] of handlers) signals.on(signal, handler);

  try {
    await service.start();
  } catch (e) {
    app.log.fatal({ err: e }, 'cannot load the model');
    await stop('the model did not load');
    throw e;
  }
  return { service, url, stopped, stop };
}

// The HTTP service assembled: the model slot, the batcher and the metrics, and one Fastify plugin per concern
// (errors, auth, lifecycle, metrics, OpenAPI, health, classification, admin). No sockets here: the tests
// call it with inject, and server.ts binds it.
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Batcher } from './batcher.ts';
import { readJsonBody } from './body.ts';
import { checkServeConfig, SERVE_DEFAULTS, type BatchingOptions, type Limits } from './config.ts';
import { Connections } from './connections.ts';
import type { AnswerableError } from './errors.ts';
import { loggerOptions } from './log.ts';
import { ServeMetrics } from './metrics.ts';
import { ModelSlot, modelId, type ModelLoader, type ReloadResult, type ServedModel } from './model-slot.ts';
import { adminPlugin } from './plugins/admin.ts';
import { authPlugin } from './plugins/auth.ts';
import { classifyPlugin } from './plugins/classify.ts';
import { errorsPlugin, frameworkErrorOptions } from './plugins/errors.ts';
import { healthPlugin } from './plugins/health.ts';
import { lifecyclePlugin } from './plugins/lifecycle.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { openApiPlugin } from './plugins/openapi.ts';
import { SHARED_SCHEMAS } from './schemas.ts';

export interface AppOptions {
  /** The export directory served first, and reloaded by default. */
  readonly dir: string;
  readonly loadModel: ModelLoader;
  readonly limits: Limits;
  readonly batching: BatchingOptions;
  readonly apiKey?: string;
  /** Fastify's pino logger settings (query strings are logged redacted); false (the default) logs nothing. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Also export Node's process metrics (resident memory, CPU, event loop). */
  readonly processMetrics?: boolean;
  readonly version?: string;
}

export interface ServeApp {
  readonly app: FastifyInstance;
  readonly slot: ModelSlot;
  readonly batcher: Batcher;
  readonly metrics: ServeMetrics;
  /** Loads and warms up the first model; /readyz answers 200 once it resolves. */
  start(): Promise<ServedModel>;
  /** What POST /admin/reload and SIGHUP do. */
  reload(dir?: string): Promise<ReloadResult>;
}

export async function buildApp(options: AppOptions): Promise<ServeApp> {
  checkServeConfig(options.limits, options.batching);

  const metrics = new ServeMetrics({ processMetrics: options.processMetrics ?? false });
  const slot = new ModelSlot(options.loadModel, options.dir);
  const countError = (error: AnswerableError): void => metrics.errors.inc({ code: error.code });
  const requestTimeoutMs = options.limits.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs;
  let connections: Connections | null = null;
  const app = Fastify({
    logger: loggerOptions(options.logger ?? false),
    bodyLimit: options.limits.bodyLimit,
    // Headers must arrive within the request timeout; a body is timed by readJsonBody, which answers
    // REQUEST_TIMEOUT itself. Node's own whole-request limit is only a backstop behind it, checked every second.
    http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
    requestTimeout: 2 * requestTimeoutMs + 1000,
    // Our lifecycle plugin answers SHUTTING_DOWN in the one error shape instead.
    return503OnClosing: false,
    ...frameworkErrorOptions(countError, (socket) => connections?.busy(socket) ?? false),
    ajv: {
      // Reject what the client got wrong instead of repairing it: no "1" for 1, no silently dropped fields.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  });
  connections = new Connections(app.server);
  const batcher = new Batcher(slot, options.batching, {
    queueDepth: (texts) => metrics.queueDepth.set(texts),
    batch: ({ texts, seconds }) => {
      metrics.batchTexts.observe(texts);
      metrics.batchSeconds.observe(seconds);
      metrics.textsProcessed.inc(texts);
    },
    failure: (error) => app.log.error({ err: error }, 'a batch failed'),
  });

  const reload = async (dir?: string): Promise<ReloadResult> => {
    app.log.info({ dir: dir ?? 'same directory' }, 'reloading the model');
    try {
      const result = await slot.reload(dir);
      metrics.reloads.inc({ outcome: 'ok' });
      metrics.serving(result.current);
      app.log.info({ previous: modelId(result.previous), current: modelId(result.current) }, 'model reloaded');
      return result;
    } catch (e) {
      metrics.reloads.inc({ outcome: 'failed' });
      throw e;
    }
  };

  // Only JSON bodies: a text/plain body gets UNSUPPORTED_MEDIA_TYPE rather than a confusing type error.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const bodyLimits = { bodyLimit: options.limits.bodyLimit, timeoutMs: requestTimeoutMs };
  app.addContentTypeParser('application/json', async (request: FastifyRequest, payload: Readable) => readJsonBody(payload, {
    contentType: request.headers['content-type'], contentLength: request.headers['content-length'],
  }, bodyLimits));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(errorsPlugin, { onError: countError });
  await app.register(lifecyclePlugin, { batcher, slot, connections });
  await app.register(authPlugin, options.apiKey !== undefined ? { apiKey: options.apiKey } : {});
  await app.register(openApiPlugin, { version: options.version ?? '0.1.0', auth: options.apiKey !== undefined });
  await app.register(metricsPlugin, { metrics });
  await app.register(healthPlugin, { slot });
  await app.register(classifyPlugin, { slot, batcher, limits: options.limits });
  await app.register(adminPlugin, { reload });

  const start = async (): Promise<ServedModel> => {
    const model = await slot.start();
    metrics.serving(model.info);
    app.log.info({ model: modelId(model.info), tasks: model.classifier.tasks.map((t) => t.name) }, 'model loaded and warmed up');
    return model;
  };
  return { app, slot, batcher, metrics, start, reload };
}

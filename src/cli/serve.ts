// `xlmt serve DIR`: an exported model behind an HTTP API with dynamic batching (docs/serving.md).
import { Command, Option } from 'commander';
import { checkServeConfig, SERVE_DEFAULTS, type ServeConfig } from '../serve/config.ts';
import { startServer } from '../serve/server.ts';
import { nonNegativeInt, positiveInt } from './options.ts';

export interface ServeFlags {
  host: string;
  port: number;
  threads?: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  maxTexts: number;
  maxChars: number;
  onLongText: 'truncate' | 'reject';
  bodyLimit: number;
  requestTimeout: number;
  apiKey?: string;
  logLevel: string;
  shutdownTimeout: number;
}

/** The flags (and XLMT_API_KEY) as a checked configuration. */
export function serveConfig(dir: string, flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const limits = {
    maxTexts: flags.maxTexts, maxChars: flags.maxChars, onLongText: flags.onLongText, bodyLimit: flags.bodyLimit, requestTimeoutMs: flags.requestTimeout * 1000,
  };
  const batching = { maxBatchSize: flags.maxBatchSize, maxWaitMs: flags.maxWaitMs, maxQueue: flags.maxQueue };
  checkServeConfig(limits, batching);
  const apiKey = flags.apiKey ?? (env.XLMT_API_KEY || undefined);
  return {
    dir, host: flags.host, port: flags.port, limits, batching, logLevel: flags.logLevel, shutdownTimeoutMs: flags.shutdownTimeout * 1000,
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
  };
}

export function serveCommand(): Command {
  const d = SERVE_DEFAULTS;
  return new Command('serve')
    .description('serve an exported model over HTTP: POST /v1/classify with dynamic batching, probes, metrics, OpenAPI')
    .argument('<dir>', 'export directory written by xlmt export')
    .option('--host <host>', 'address to bind', d.host)
    .option('--port <n>', 'port (0: any free one)', nonNegativeInt('--port'), d.port)
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt('--threads'))
    .option('--max-batch-size <n>', 'texts per forward pass', positiveInt('--max-batch-size'), d.maxBatchSize)
    .option('--max-wait-ms <n>', 'how long a text may wait for others to fill its batch', nonNegativeInt('--max-wait-ms'), d.maxWaitMs)
    .option('--max-queue <n>', 'texts waiting before requests get 503 QUEUE_FULL', positiveInt('--max-queue'), d.maxQueue)
    .option('--max-texts <n>', 'texts per request', positiveInt('--max-texts'), d.maxTexts)
    .option('--max-chars <n>', 'characters per text', positiveInt('--max-chars'), d.maxChars)
    .addOption(new Option('--on-long-text <what>', 'a text over --max-chars').choices(['truncate', 'reject']).default(d.onLongText))
    .option('--body-limit <bytes>', 'request body size', positiveInt('--body-limit'), d.bodyLimit)
    .option('--request-timeout <s>', 'seconds the headers, then the body, of a request may take to arrive', positiveInt('--request-timeout'), d.requestTimeoutMs / 1000)
    .option('--api-key <key>', 'require this key on every route but the probes (default: $XLMT_API_KEY)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(d.logLevel))
    .option('--shutdown-timeout <s>', 'seconds a SIGTERM drain may take', positiveInt('--shutdown-timeout'), d.shutdownTimeoutMs / 1000)
    .action(async (dir: string, flags: ServeFlags) => {
      // Run it as the process the supervisor signals (`node bin/xlmt.js serve`, not `npx`: docs/serving.md), so
      // that SIGTERM drains and SIGHUP reloads; from here on startServer handles both.
      const server = await startServer(serveConfig(dir, flags), { version: '0.1.0' });
      const drained = await server.stopped;
      // ONNX Runtime's thread pools can outlive the sessions, and a model still loading when SIGTERM came cannot
      // be interrupted; the server is done, so end the process.
      process.exit(drained ? 0 : 1);
    });
}

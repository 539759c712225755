// The Prometheus metrics of one service, in a registry of its own (several apps in one process, as in the
// tests, do not collide). Texts per second is rate(xlmt_texts_processed_total[1m]).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelInfo } from './model-slot.ts';

// Latencies from 1 ms to 10 s: a tiny model answers a lone text in a few ms, a queue at capacity in seconds.
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_TEXTS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export class ServeMetrics {
  readonly registry = new Registry();

  readonly requestSeconds = new Histogram({
    name: 'xlmt_http_request_duration_seconds',
    help: 'HTTP request latency, from the request arriving to the response sent',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly batchTexts = new Histogram({
    name: 'xlmt_batch_size_texts',
    help: 'Texts per forward pass of the dynamic batcher',
    buckets: BATCH_TEXTS,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'xlmt_batch_duration_seconds',
    help: 'Time the classifier took per batch (tokenization and forward pass)',
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'xlmt_queue_depth_texts',
    help: 'Texts waiting for a forward pass',
    registers: [this.registry],
  });

  readonly textsProcessed = new Counter({
    name: 'xlmt_texts_processed_total',
    help: 'Texts classified',
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'xlmt_errors_total',
    help: 'Error responses by stable error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: 'xlmt_model_reloads_total',
    help: 'Model reloads by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly model = new Gauge({
    name: 'xlmt_model_info',
    help: 'The model being served (value 1)',
    labelNames: ['name', 'version'] as const,
    registers: [this.registry],
  });

  /** `processMetrics`: also Node's process_* and nodejs_* metrics (resident memory, CPU, event-loop lag). */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  serving(info: ModelInfo): void {
    this.model.reset();
    this.model.set({ name: info.name, version: info.version }, 1);
  }
}

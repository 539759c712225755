// What `xlmt serve` can be told: request limits, dynamic batching, binding and authentication, with defaults
// and the cross-checks no single flag parser can make.
import { XlmtError } from '../errors/index.ts';

export interface Limits {
  /** Texts per request. */
  readonly maxTexts: number;
  /** Characters (Unicode code points) per text. */
  readonly maxChars: number;
  /** A text over maxChars: cut to maxChars (and flagged `truncated`), or refused with TEXT_TOO_LONG. */
  readonly onLongText: 'truncate' | 'reject';
  /** Request body bytes. */
  readonly bodyLimit: number;
  /** How long the headers, and then the body, may take to arrive (default SERVE_DEFAULTS.requestTimeoutMs). */
  readonly requestTimeoutMs?: number;
}

export interface BatchingOptions {
  /** Texts per forward pass; a batch closes as soon as this many are queued. */
  readonly maxBatchSize: number;
  /** How long the oldest queued text may wait for others to join its batch. */
  readonly maxWaitMs: number;
  /** Texts waiting (not yet in a forward pass) before new requests get QUEUE_FULL. */
  readonly maxQueue: number;
}

export interface ServeConfig {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  /** ONNX Runtime intra-op threads; unset: all cores. */
  readonly threads?: number;
  readonly limits: Limits;
  readonly batching: BatchingOptions;
  readonly apiKey?: string;
  readonly logLevel: string;
  /** How long a SIGTERM/SIGINT drain may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBatchSize: 32,
  maxWaitMs: 5,
  maxQueue: 1024,
  maxTexts: 64,
  maxChars: 2000,
  onLongText: 'truncate',
  // 1 MiB holds 64 texts of 2,000 characters even at 4 UTF-8 bytes each, plus JSON escaping.
  bodyLimit: 1 << 20,
  // A 1 MiB body arrives in well under a second on any working link; a stalled one should not hold a connection.
  requestTimeoutMs: 10_000,
  logLevel: 'info',
  shutdownTimeoutMs: 30_000,
} as const;

/** The problems between settings, each naming its flags; empty when the configuration is usable. */
/** Refuses limits that contradict each other (BAD_OPTION, naming the flags). */
export function checkServeConfig(limits: Limits, batching: BatchingOptions): void {
  if (limits.maxTexts > batching.maxQueue) {
    throw new XlmtError({
      code: 'BAD_OPTION', message: `--max-texts ${limits.maxTexts} is above --max-queue ${batching.maxQueue}: a full request could never be queued`,
      where: { field: '--max-texts' }, hint: 'raise --max-queue or lower --max-texts',
    });
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

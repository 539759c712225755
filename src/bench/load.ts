// Load test of `xlmt serve`: the server runs as a child process (so its memory is its own and the client's
// work is not on its event loop), autocannon's concurrent clients POST texts from a dataset, and the report
// gives latency percentiles, throughput, every kind of error, the server's batching and its resident memory
// before and after.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DataError, issue } from '../data/issues.ts';
import { XlmtError } from '../errors/index.ts';
import { parseLine } from './jsonl.ts';

export interface LoadBenchOptions {
  /** Export directory to serve. */
  readonly model: string;
  /** JSONL file whose `text` fields are sent. */
  readonly data: string;
  readonly connections: number;
  /** Seconds of measured load. */
  readonly duration: number;
  /** Seconds of unmeasured load first, so memory is measured after the runtime's arenas have grown. */
  readonly warmup: number;
  readonly textsPerRequest: number;
  /** Forwarded to `xlmt serve`. */
  readonly threads?: number;
  readonly maxBatchSize?: number;
  readonly maxWaitMs?: number;
}

/**
 * The warm-up is 30 s because the server's heap takes that long to reach its working size under full load: at
 * ~1,200 requests/s a 5 s warm-up left RSS growing 31% over the next minute, which then fell back (−8% after a
 * 30 s warm-up) — growth to a steady state, not a leak. docs/serving.md has both runs.
 */
export const LOAD_BENCH_DEFAULTS = { connections: 64, duration: 60, warmup: 30, textsPerRequest: 1 } as const;

export interface LoadBenchResult {
  readonly connections: number;
  readonly durationS: number;
  readonly textsPerRequest: number;
  readonly requests: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly requestsPerSec: number;
  readonly textsPerSec: number;
  /** non2xx + connection errors (autocannon counts timeouts among the errors). */
  readonly errors: { readonly total: number; readonly non2xx: number; readonly connectionErrors: number; readonly timeouts: number };
  /** From the server's own metrics over the measured run. */
  readonly server: { readonly batches: number; readonly meanBatchTexts: number; readonly textsProcessed: number };
  readonly rssMb: { readonly ready: number; readonly before: number; readonly after: number; readonly growth: number };
  /** The server's exit code after SIGTERM (0: drained and stopped cleanly). */
  readonly exitCode: number | null;
}

/** `text` of every line of a JSONL file. */
export function readTexts(file: string): string[] {
  const texts = readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    const { text } = parseLine(file, i + 1, line);
    if (typeof text !== 'string') throw new DataError([issue('MISSING_TEXT', { file, line: i + 1 }, 'no "text" string', { field: 'text' })]);
    return [text];
  });
  if (texts.length === 0) throw new DataError([issue('EMPTY_FILE', { file, line: null }, 'no texts')]);
  return texts;
}

export async function benchLoad(options: LoadBenchOptions, log: (line: string) => void = () => {}): Promise<LoadBenchResult> {
  const texts = readTexts(options.data);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startServer(options, port);
  try {
    log(`xlmt serve ${options.model} on ${base} (pid ${server.child.pid}); waiting for /readyz`);
    await waitReady(base, server);
    const ready = await scrape(base);
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} s of load`);
      await load(base, texts, { ...options, duration: options.warmup });
    }
    const before = await scrape(base);
    log(`measuring: ${options.connections} connections for ${options.duration} s, ${options.textsPerRequest} text(s) per request`);
    const result = await load(base, texts, options);
    const after = await scrape(base);
    const exitCode = await stopServer(server.child);
    const ok = result['2xx'];
    const batches = after.batches - before.batches;
    const rss = { ready: ready.rssBytes / 2 ** 20, before: before.rssBytes / 2 ** 20, after: after.rssBytes / 2 ** 20 };
    return {
      connections: options.connections,
      durationS: result.duration,
      textsPerRequest: options.textsPerRequest,
      requests: result.requests.total,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
      requestsPerSec: result.requests.total / result.duration,
      textsPerSec: (ok * options.textsPerRequest) / result.duration,
      errors: { total: result.non2xx + result.errors, non2xx: result.non2xx, connectionErrors: result.errors, timeouts: result.timeouts },
      server: {
        batches,
        meanBatchTexts: batches > 0 ? (after.batchTexts - before.batchTexts) / batches : 0,
        textsProcessed: after.textsProcessed - before.textsProcessed,
      },
      rssMb: { ...rss, growth: rss.after / rss.before - 1 },
      exitCode,
    };
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
}

interface ServerProcess {
  readonly child: ChildProcess;
  /** The server's stderr and stdout so far, for the error when it does not start. */
  readonly output: () => string;
}

function startServer(options: LoadBenchOptions, port: number): ServerProcess {
  const bin = fileURLToPath(new URL('../../bin/xlmt.js', import.meta.url));
  const args = [bin, 'serve', options.model, '--port', String(port), '--log-level', 'warn', '--max-texts', String(Math.max(64, options.textsPerRequest))];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  if (options.maxBatchSize !== undefined) args.push('--max-batch-size', String(options.maxBatchSize));
  if (options.maxWaitMs !== undefined) args.push('--max-wait-ms', String(options.maxWaitMs));
  // No API key: one set in this environment would lock the bench's clients out.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XLMT_API_KEY: '' } });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function waitReady(base: string, server: ServerProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw serverFailed(`xlmt serve exited with code ${server.child.exitCode}`, server);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw serverFailed(`xlmt serve was not ready after ${timeoutMs / 1000} s`, server);
}

/** The server's own output says why it failed; it travels in `details` and the message. */
function serverFailed(message: string, server: ServerProcess): XlmtError {
  return new XlmtError({ code: 'INTERNAL', message: `${message}:\n${server.output()}`, where: { api: 'bench load' }, details: { output: server.output() } });
}

function load(base: string, texts: readonly string[], options: LoadBenchOptions): Promise<autocannon.Result> {
  let next = 0;
  const body = (): string => {
    const batch = Array.from({ length: options.textsPerRequest }, () => texts[next++ % texts.length] as string);
    return JSON.stringify({ texts: batch });
  };
  return autocannon({
    url: `${base}/v1/classify`,
    connections: options.connections,
    duration: options.duration,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
  });
}

interface Scrape {
  readonly rssBytes: number;
  readonly batches: number;
  readonly batchTexts: number;
  readonly textsProcessed: number;
}

async function scrape(base: string): Promise<Scrape> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string): number => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!match) throw new XlmtError({ code: 'INTERNAL', message: `the server's /metrics has no ${name}`, where: { api: 'bench load' } });
    return Number(match[1]);
  };
  return {
    rssBytes: value('process_resident_memory_bytes'),
    batches: value('xlmt_batch_size_texts_count'),
    batchTexts: value('xlmt_batch_size_texts_sum'),
    textsProcessed: value('xlmt_texts_processed_total'),
  };
}

function stopServer(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

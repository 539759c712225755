// `xlmt bench load`: concurrent clients against `xlmt serve` (src/bench/load.ts); a subcommand of `xlmt bench`.
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { benchLoad, LOAD_BENCH_DEFAULTS, type LoadBenchResult } from '../bench/load.ts';
import { nonNegativeInt, positiveInt } from './options.ts';

/** The bundled demo dev set: real texts in 15 languages. */
const DEMO_DEV = fileURLToPath(new URL('../../data/demo/dev.jsonl', import.meta.url));

interface LoadFlags {
  model: string;
  data: string;
  connections: number;
  duration: number;
  warmup: number;
  textsPerRequest: number;
  threads?: number;
  maxBatchSize?: number;
  maxWaitMs?: number;
  json: boolean;
}

function printLoad(r: LoadBenchResult): void {
  const l = r.latencyMs;
  console.log([
    `load            ${r.connections} connections, ${r.durationS.toFixed(0)} s, ${r.textsPerRequest} text(s) per request`,
    `requests        ${r.requests} (${r.requestsPerSec.toFixed(1)} requests/s, ${r.textsPerSec.toFixed(1)} texts/s)`,
    `latency         p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms (mean ${l.mean.toFixed(1)} ms)`,
    `errors          ${r.errors.total} (non-2xx ${r.errors.non2xx}, connection errors ${r.errors.connectionErrors}, of which timeouts ${r.errors.timeouts})`,
    `batching        ${r.server.batches} batches, ${r.server.meanBatchTexts.toFixed(1)} texts per batch`,
    `server RSS      ${r.rssMb.ready.toFixed(0)} MB ready, ${r.rssMb.before.toFixed(0)} MB after warm-up, ${r.rssMb.after.toFixed(0)} MB after the run (${(100 * r.rssMb.growth).toFixed(1)}%)`,
    `shutdown        exit code ${r.exitCode ?? 'none (killed)'}`,
  ].join('\n'));
}

export function benchLoadCommand(): Command {
  const d = LOAD_BENCH_DEFAULTS;
  return new Command('load')
    .description('load-test xlmt serve: concurrent clients POST texts, report latency, throughput, errors and server memory')
    .requiredOption('--model <dir>', 'export directory to serve')
    .option('--data <file>', 'JSONL file whose "text" fields are sent (the demo dev set: 920 texts, 15 languages)', DEMO_DEV)
    .option('--connections <n>', 'concurrent clients', positiveInt('--connections'), d.connections)
    .option('--duration <s>', 'seconds of measured load', positiveInt('--duration'), d.duration)
    .option('--warmup <s>', 'seconds of unmeasured load first', nonNegativeInt('--warmup'), d.warmup)
    .option('--texts-per-request <n>', 'texts in each request', positiveInt('--texts-per-request'), d.textsPerRequest)
    .option('--threads <n>', 'server ONNX Runtime threads (default: all cores)', positiveInt('--threads'))
    .option('--max-batch-size <n>', 'server --max-batch-size', positiveInt('--max-batch-size'))
    .option('--max-wait-ms <n>', 'server --max-wait-ms', nonNegativeInt('--max-wait-ms'))
    .option('--json', 'print one JSON object', false)
    .action(async (flags: LoadFlags) => {
      const { json, ...options } = flags;
      const result = await benchLoad(options, (line) => process.stderr.write(`${line}\n`));
      if (json) console.log(JSON.stringify(result, null, 2));
      else printLoad(result);
    });
}

// `xlmt bench`: benchmarks that print figures (never timed tests).
import { Command } from 'commander';
import { benchTrain, TRAIN_BENCH_DEFAULTS, type TrainBenchResult } from '../bench/train.ts';
import { nonNegativeInt, positiveInt, probability } from './options.ts';
import { benchCompareCommand } from './bench-compare.ts';

function printTrain(r: TrainBenchResult): void {
  const m = r.model;
  const lines = [
    `model           ${m.layers} layers, hidden ${m.hidden}, ${m.heads} heads, FFN ${m.ffn}, vocab ${m.vocab} (${(m.params / 1e6).toFixed(1)}M params)`,
    `batch           ${r.batch} × ${r.seq} tokens, ${r.threads} threads, ${r.steps} timed steps`,
    `step            ${r.stepMs.toFixed(0)} ms (ONNX Runtime ${r.runMs.toFixed(0)} ms + optimizer ${r.optimizerMs.toFixed(0)} ms)`,
    `throughput      ${r.tokensPerSec.toFixed(0)} tokens/s`,
    `achieved        ${r.achievedGflops.toFixed(1)} GFLOP/s (${(r.flopsPerStep / 1e9).toFixed(1)} GFLOP per step)`,
    `GEMM peak       ${r.gemmPeakGflops.toFixed(1)} GFLOP/s at [${r.gemmPeakShape.join('×')}]`,
    `ratio           ${r.ratio.toFixed(2)}`,
    `peak RSS        ${r.peakRssMb.toFixed(0)} MB`,
  ];
  if (r.opTypes) {
    lines.push('', 'kernel time per op type (ms per step):');
    for (const t of r.opTypes.slice(0, 15)) lines.push(`  ${t.opType.padEnd(24)} ${t.ms.toFixed(1).padStart(8)}  ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.calls} calls`);
  }
  console.log(lines.join('\n'));
}

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks that print figures');
  const d = TRAIN_BENCH_DEFAULTS;
  bench
    .command('train')
    .description('training-step throughput of a BERT-family classifier against the fp32 GEMM peak (default: MiniLM-L6-H384 shape)')
    .option('--layers <n>', 'encoder layers', positiveInt('--layers'), d.layers)
    .option('--hidden <n>', 'hidden size', positiveInt('--hidden'), d.hidden)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), d.heads)
    .option('--ffn <n>', 'feed-forward size', positiveInt('--ffn'), d.ffn)
    .option('--vocab <n>', 'vocabulary size', positiveInt('--vocab'), d.vocab)
    .option('--seq <n>', 'sequence length', positiveInt('--seq'), d.seq)
    .option('--batch <n>', 'batch size', positiveInt('--batch'), d.batch)
    .option('--steps <n>', 'timed steps', positiveInt('--steps'), d.steps)
    .option('--warmup <n>', 'untimed warm-up steps', nonNegativeInt('--warmup'), d.warmup)
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt('--threads'), d.threads)
    .option('--labels <n>', 'classes of the head', positiveInt('--labels'), d.labels)
    .option('--dropout <p>', 'dropout probability', probability('--dropout'), d.dropout)
    .option('--profile', 'profile the steps and report kernel time per op type', false)
    .option('--json', 'print one JSON object', false)
    .action(async (o: typeof d & { json: boolean }) => {
      if (o.hidden % o.heads !== 0) throw new Error(`--hidden ${o.hidden} must be divisible by --heads ${o.heads}`);
      const result = await benchTrain(o, (line) => process.stderr.write(`${line}\n`));
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else printTrain(result);
    });
  bench.addCommand(benchCompareCommand());
  return bench;
}

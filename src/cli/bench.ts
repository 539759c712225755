// `xlmt bench`: benchmarks that print figures (never timed tests).
import { Command, InvalidArgumentError } from 'commander';
import { benchInfer, INFER_BENCH_DEFAULTS, type InferBenchResult } from '../bench/infer.ts';
import { benchTrain, TRAIN_BENCH_DEFAULTS, type TrainBenchResult } from '../bench/train.ts';
import { isPresetName, PRESET_NAMES, type PresetName } from '../checkpoint/presets.ts';
import { XlmtError } from '../errors/index.ts';
import type { EpilogueKind } from '../export/fused.ts';
import { collect, nonNegativeInt, positiveInt, probability } from './options.ts';
import { benchCompareCommand } from './bench-compare.ts';
import { benchLoadCommand } from './bench-load.ts';

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

const times = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)}×`);

/** Markdown table, one row per model and variant, speedups over xlm-roberta-base fp32. */
export function inferTable(r: InferBenchResult): string {
  const lines = [
    `batch ${r.batch} × ${r.seq} tokens, ${r.threads} threads, median of ${r.iterations} timed runs after ${r.warmup} warm-up (a model's variants run in turn)`,
    `fp32: ${r.fused}; int8: ${r.int8}`,
    '',
    '| model | layers × hidden | variant | ms / batch | CPU ms / batch | texts / s | speedup | CPU speedup | over unpruned | paper | model MB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    lines.push(`| ${row.label} | ${row.layers} × ${row.hidden} | ${row.variant} | ${row.msPerBatch.toFixed(0)} | ${row.cpuMsPerBatch.toFixed(0)} | ${row.textsPerSec.toFixed(1)} | ${times(row.speedup)} | ${times(row.cpuSpeedup)} | ${times(row.speedupOverUnpruned)} | ${times(row.paperSpeedup)} | ${row.modelMb.toFixed(0)} |`);
  }
  lines.push('', 'Medians of the timed runs. speedup: over xlm-roberta-base fp32 (fused) of this run, by wall time (CPU speedup: by CPU time);',
    'over unpruned: a pruned or trimmed row against the same model\'s unpruned fp32 of this run (wall time);',
    `paper: Table 7 of Campos et al. (2022), on its hardware. Peak RSS ${r.peakRssMb.toFixed(0)} MB.`);
  for (const row of r.rows) {
    if (!row.opTypes) continue;
    lines.push('', `kernel time per op type, ${row.label} ${row.variant} (ms per batch, profiled over warm-up and timed runs):`);
    for (const t of row.opTypes.slice(0, 12)) lines.push(`  ${t.opType.padEnd(28)} ${t.ms.toFixed(1).padStart(9)}  ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.calls} calls`);
  }
  return lines.join('\n');
}

function epilogueKind(value: string): EpilogueKind {
  if (value !== 'standard' && value !== 'contrib') throw new InvalidArgumentError(`--epilogues expects standard or contrib, got "${value}"`);
  return value;
}

function presetList(value: string): PresetName[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = names.filter((n) => !isPresetName(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`--models expects a comma-separated list of ${PRESET_NAMES.join(', ')}; got "${value}"`);
  }
  return names as PresetName[];
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
      if (o.hidden % o.heads !== 0) {
        throw new XlmtError({ code: 'BAD_OPTION', message: 'must be divisible by --heads', where: { field: '--hidden' }, expected: `a multiple of ${o.heads}`, received: String(o.hidden) });
      }
      const result = await benchTrain(o, (line) => process.stderr.write(`${line}\n`));
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else printTrain(result);
    });
  bench.addCommand(benchCompareCommand());
  bench.addCommand(benchLoadCommand());
  const i = INFER_BENCH_DEFAULTS;
  bench
    .command('infer')
    .description("inference throughput of the paper's encoders (random weights, one 3-class head), fused fp32 and dynamic int8, as speedups over xlm-roberta-base fp32")
    .option('--models <list>', `comma-separated presets (${PRESET_NAMES.join(', ')})`, presetList, [...i.models])
    .option('--batch <n>', 'texts per batch', positiveInt('--batch'), i.batch)
    .option('--seq <n>', 'tokens per text', positiveInt('--seq'), i.seq)
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt('--threads'), i.threads)
    .option('--iterations <n>', 'timed batches per model and variant (the median is reported)', positiveInt('--iterations'), i.iterations)
    .option('--warmup <n>', 'untimed batches first', nonNegativeInt('--warmup'), i.warmup)
    .option('--include-reference', 'also time the unfused reference graph in fp32', i.includeReference)
    .option('--per-tensor', 'int8 weights with one scale per tensor instead of per output column', false)
    .option('--compare-embeddings', 'also time the int8 graph with its word-embedding table left fp32 (variant int8-fp32-embeddings)', i.compareEmbeddings)
    .option('--epilogues <kind>', "kernels after each dense layer of the fused graph: 'standard' (Gemm, Add, LayerNormalization, Gelu) or 'contrib' (SkipLayerNormalization, BiasGelu)", epilogueKind, i.epilogues)
    .option('--prune-layers <n>', 'also time each model with only its lowest N layers, against itself unpruned', positiveInt('--prune-layers'))
    .option('--prune-heads <n>', 'also time each model with N heads in every layer', positiveInt('--prune-heads'))
    .option('--prune-ffn <n>', 'also time each model with N FFN neurons in every layer', positiveInt('--prune-ffn'))
    .option('--trim-vocab <n>', 'also time each model with N embedding rows (its sizes are the trimmed model\'s)', positiveInt('--trim-vocab'))
    .option('--model <dir>', 'time a model directory\'s shape (random weights) beside the model its compression passes began from; repeatable; presets only with --models', collect)
    .option('--profile', "also profile every session and print its kernel time per op type per batch (profiling adds its own cost to the times)", false)
    .option('--json', 'print one JSON object', false)
    .action(async (o: Omit<typeof i, 'perChannel'> & { perTensor: boolean; json: boolean; profile: boolean; model?: string[]; pruneLayers?: number; pruneHeads?: number; pruneFfn?: number; trimVocab?: number }, command: Command) => {
      const shape = {
        ...(o.pruneLayers !== undefined ? { layers: o.pruneLayers } : {}),
        ...(o.pruneHeads !== undefined ? { heads: o.pruneHeads } : {}),
        ...(o.pruneFfn !== undefined ? { ffn: o.pruneFfn } : {}),
        ...(o.trimVocab !== undefined ? { vocab: o.trimVocab } : {}),
      };
      const presets = o.model && command.getOptionValueSource('models') === 'default' ? [] : o.models;
      const result = await benchInfer({ ...o, models: presets, perChannel: !o.perTensor, shape, ...(o.model ? { dirs: o.model } : {}) }, (line) => process.stderr.write(`${line}\n`));
      console.log(o.json ? JSON.stringify(result, null, 2) : inferTable(result));
    });
  return bench;
}

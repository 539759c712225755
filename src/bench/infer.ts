// Inference-throughput benchmark in the shape of the paper's Table 7 (Campos et al. 2022): the encoders xlmt
// targets, random weights, one 3-class head, CLS pooling, batches of 32 texts of 128 tokens, fp32 and dynamic int8,
// each as a speedup over xlm-roberta-base fp32 measured in the same run on the same threads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxSequenceLength } from '../checkpoint/hf-config.ts';
import type { HfModelConfig } from '../checkpoint/hf-config.ts';
import { isPresetName, type PresetName, preset } from '../checkpoint/presets.ts';
import { dirModel } from './model-dir-shapes.ts';
import { XlmtError } from '../errors/index.ts';
import { DEFAULT_EPILOGUES, type EpilogueKind, fusedInferenceGraph } from '../export/fused.ts';
import { referenceInferenceGraph } from '../export/graph.ts';
import { chooseWeightBits, readCpuFlags } from '../export/cpu-features.ts';
import { quantizeDynamicInt8 } from '../export/quantize.ts';
import { quantizeWordEmbeddings } from '../export/quantize-embeddings.ts';
import type { Graph } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import type { TensorData } from '../ir/tensor.ts';
import type { EncoderConfig } from '../models/config.ts';
import { initParams } from '../models/init.ts';
import { type Feeds, Session } from '../runtime/session.ts';
import type { Positions } from '../train/feeds.ts';
import { Random } from '../util/random.ts';
import { type OpTypeTime, takeProfile } from './profile.ts';
import { applyShape, describeShape, hasShapeChange, type ShapeChange } from './shapes.ts';
import { syntheticTask } from './synthetic.ts';

/** 'int8': int8 weights and word-embedding table, as `xlmt export --int8` writes when the check keeps the table. */
export type InferVariant = 'fp32' | 'int8' | 'int8-fp32-embeddings' | 'fp32-reference';

export interface InferBenchOptions {
  readonly models: readonly PresetName[];
  readonly batch: number;
  readonly seq: number;
  readonly threads: number;
  /** Timed runs per model and variant; the median is reported. */
  readonly iterations: number;
  /** Untimed runs first (ONNX Runtime allocates its arena and picks kernels on the first). */
  readonly warmup: number;
  /** Also time the unfused reference graph in fp32, to show what the fusion itself gains. */
  readonly includeReference: boolean;
  /** int8 weights with one scale per output column (default) or one per tensor. */
  readonly perChannel: boolean;
  /** The fused graph's kernels after each dense layer (export/fused.ts). */
  readonly epilogues: EpilogueKind;
  /** Also time the int8 graph with its word-embedding table left fp32, to show what the int8 table costs or saves. */
  readonly compareEmbeddings: boolean;
  /** Also time each model pruned or trimmed this way, against itself unpruned in the same run. */
  readonly shape?: ShapeChange;
  /** Model directories to time (their shapes, random weights), each beside the model its passes began from. */
  readonly dirs?: readonly string[];
  /**
   * Also profile every session (ONNX Runtime's per-node profile) and report its kernel time per op type, per batch
   * over the warm-up and timed runs: where the time goes. Profiling adds its own cost to the times.
   */
  readonly profile?: boolean;
}

export const INFER_BENCH_DEFAULTS: InferBenchOptions = {
  models: ['xlm-roberta-base', 'bert-base-multilingual-cased', 'multilingual-minilm-l12-h384', 'mminilmv2-l6-h384', 'xtremedistil-l6-h256-uncased'],
  batch: 32, seq: 128, threads: 2, iterations: 5, warmup: 1, includeReference: false, perChannel: true,
  epilogues: DEFAULT_EPILOGUES, compareEmbeddings: false,
};

/** Table 7 of the paper: speedups over XLM-R base fp32 (its own hardware), for the rows it reports. */
export const PAPER_SPEEDUPS: Readonly<Partial<Record<PresetName, Partial<Record<InferVariant, number>>>>> = {
  'xlm-roberta-base': { fp32: 1, int8: 3.64 },
  'multilingual-minilm-l12-h384': { fp32: 3.29, int8: 8.11 },
  'mminilmv2-l6-h384': { int8: 15.61 },
};

export interface InferBenchRow {
  /** A preset's name, or a model directory. */
  readonly model: string;
  /** What pruning or trimming left of the preset ('' for the preset as it is, or a directory's origin). */
  readonly shape: string;
  /** The row's name in tables. */
  readonly label: string;
  readonly variant: InferVariant;
  readonly layers: number;
  readonly hidden: number;
  /** Median over the timed runs. */
  readonly msPerBatch: number;
  /**
   * CPU time of the process per batch (median): ONNX Runtime's threads working, and with several threads also
   * spinning while they wait for each other. On a shared machine, wall time includes waiting for a core and CPU
   * time does not: with --threads 1 it is the steadier measure of the work a batch takes.
   */
  readonly cpuMsPerBatch: number;
  readonly textsPerSec: number;
  /** xlm-roberta-base fp32 (fused) median time over this one, same run; null when that model was not benchmarked. */
  readonly speedup: number | null;
  /** The same with CPU times. */
  readonly cpuSpeedup: number | null;
  readonly paperSpeedup: number | null;
  /** For a pruned or trimmed row: the same preset's unpruned fp32 median time over this one, same run. */
  readonly speedupOverUnpruned: number | null;
  /** With `profile`: kernel time per op type per batch, largest first. */
  readonly opTypes?: readonly OpTypeTime[];
  /** Size of the weights and constants in MB (10⁶ bytes), as `xlmt export` reports sizes. */
  readonly modelMb: number;
}

export interface InferBenchResult {
  readonly batch: number;
  readonly seq: number;
  readonly threads: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly fused: string;
  readonly int8: string;
  readonly rows: readonly InferBenchRow[];
  readonly peakRssMb: number;
}

const BASELINE: PresetName = 'xlm-roberta-base';

/** Full-length rows of random non-special token ids: every text exactly `seq` tokens, as the paper times them. */
export function fullBatch(vocabSize: number, batch: number, seq: number, random: Random): Feeds {
  const ids = new BigInt64Array(batch * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(5 + random.int(vocabSize - 5));
  const mask: TensorData = { dtype: 'int64', shape: [batch, seq], data: new BigInt64Array(batch * seq).fill(1n) };
  return { input_ids: { dtype: 'int64', shape: [batch, seq], data: ids }, attention_mask: mask };
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Timed {
  readonly variant: InferVariant;
  readonly session: Session;
  /** The profile's file prefix, when profiled. */
  readonly profilePrefix?: string;
  readonly modelMb: number;
  readonly wallMs: number[];
  readonly cpuMs: number[];
}

/**
 * Runs the variants of one model in turn, batch by batch (A B C A B C …), so a load change on a shared machine
 * falls on all of them alike instead of on whichever happened to run then.
 */
async function timeInterleaved(timed: readonly Timed[], feeds: Feeds, o: InferBenchOptions): Promise<void> {
  for (const t of timed) for (let i = 0; i < o.warmup; i++) await t.session.run(feeds);
  for (let i = 0; i < o.iterations; i++) {
    for (const t of timed) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await t.session.run(feeds);
      t.wallMs.push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      t.cpuMs.push((used.user + used.system) / 1000);
    }
  }
}

function positionsOf(hf: HfModelConfig): Positions {
  return hf.positions === 'roberta' ? { convention: 'roberta', paddingIdx: hf.padTokenId } : { convention: 'bert' };
}

/** What one block of the benchmark times: a model's shapes, the first the reference of the others. */
export interface BenchModel {
  readonly name: string;
  /** How the reference shape ('') is named in tables, when not by `name`. */
  readonly referenceLabel?: string;
  readonly hf: HfModelConfig;
  /** [label, config]: '' for the model itself, else what pruning or trimming left of it. */
  readonly shapes: readonly (readonly [string, EncoderConfig])[];
}

function presetModel(name: PresetName, o: InferBenchOptions): BenchModel {
  const hf = preset(name).config;
  const shapes: [string, EncoderConfig][] = [['', hf.encoder]];
  if (o.shape && hasShapeChange(o.shape)) shapes.push([describeShape(o.shape), applyShape(hf.encoder, o.shape, name)]);
  return { name, hf, shapes };
}

/** The graphs of one model: built one after the other, each handed to its session before the next is made. */
function* variants(config: EncoderConfig, hf: HfModelConfig, o: InferBenchOptions, params: ParamStore): Generator<[InferVariant, Graph, ParamStore]> {
  const tasks = [syntheticTask('task', 3)];
  const options = { pooling: 'cls' as const, headStyle: 'linear' as const, positions: positionsOf(hf) };
  if (o.includeReference) yield ['fp32-reference', referenceInferenceGraph(config, tasks, options), params];
  const fused = fusedInferenceGraph(config, tasks, { ...options, epilogues: o.epilogues }, params);
  yield ['fp32', fused.graph, fused.params];
  // The weight range xlmt export would choose on this CPU, so the benchmark times what would be served.
  const int8 = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: o.perChannel, weightBits: chooseWeightBits(readCpuFlags()).bits });
  if (o.compareEmbeddings) yield ['int8-fp32-embeddings', int8.graph, int8.params];
  const table = quantizeWordEmbeddings(int8.graph, int8.params);
  yield ['int8', table.graph, table.params];
}

function serializedMb(graph: Graph, params: ParamStore): number {
  const floats = graph.params.reduce((n, p) => n + (params.get(p.name)?.data.byteLength ?? 0), 0);
  const constants = graph.constants.reduce((n, c) => n + (c.data?.data.byteLength ?? 0), 0);
  return (floats + constants) / 1e6;
}

/** A row as timed, before the speedups against other rows are worked out. */
export type TimedRow = Omit<InferBenchRow, 'speedup' | 'cpuSpeedup' | 'paperSpeedup' | 'speedupOverUnpruned'>;

/**
 * Times every shape of one model, fp32 and int8 serving graphs of random weights, all in one interleaved loop so
 * the shapes share whatever load the machine has. What `xlmt bench infer` does per model, and what `xlmt compress
 * --search` orders its candidates by.
 */
export async function timeShapes(m: BenchModel, o: InferBenchOptions, log: (line: string) => void = () => {}): Promise<TimedRow[]> {
  const { name, hf, shapes, referenceLabel } = m;
  const labelOf = (shape: string): string => (shape === '' ? (referenceLabel ?? name) : `${name} (${shape})`);
  if (o.seq > maxSequenceLength(hf)) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `longer than ${name} takes`, where: { field: '--seq' }, expected: `at most ${maxSequenceLength(hf)} tokens`, received: String(o.seq) });
  }
  const measured: TimedRow[] = [];
  const timed: (Timed & { shape: string; config: EncoderConfig })[] = [];
  const profiles = o.profile ? mkdtempSync(join(tmpdir(), 'xlmt-bench-infer-')) : null;
  const opTypes = new Map<Timed, OpTypeTime[] | undefined>();
  try {
    for (const [shape, config] of shapes) {
      log(`${labelOf(shape)}: random weights and graphs…`);
      const tasks = [syntheticTask('task', 3)];
      const params = initParams(referenceInferenceGraph(config, tasks, { pooling: 'cls', headStyle: 'linear', positions: positionsOf(hf) }), 1);
      for (const [variant, graph, store] of variants(config, hf, o, params)) {
        const profilePrefix = profiles === null ? undefined : join(profiles, `session-${timed.length}`);
        const session = await Session.create(graph, { params: store, threads: o.threads, ...(profilePrefix ? { profilePrefix } : {}) });
        timed.push({ variant, session, modelMb: serializedMb(graph, store), wallMs: [], cpuMs: [], shape, config, ...(profilePrefix ? { profilePrefix } : {}) });
      }
    }
    log(`${name}: timing ${timed.map((t) => (t.shape === '' ? t.variant : `${t.variant} (${t.shape})`)).join(', ')} in turn…`);
    await timeInterleaved(timed, fullBatch(Math.min(...shapes.map(([, c]) => c.vocabSize)), o.batch, o.seq, new Random(7)), o);
    for (const t of timed) {
      if (t.profilePrefix === undefined) continue;
      t.session.endProfiling();
      opTypes.set(t, takeProfile(t.profilePrefix, o.warmup + o.iterations));
    }
  } finally {
    for (const t of timed) await t.session.release();
    if (profiles !== null) rmSync(profiles, { recursive: true, force: true });
  }
  for (const t of timed) {
    const profiled = opTypes.get(t);
    const msPerBatch = median(t.wallMs);
    const label = labelOf(t.shape);
    log(`${label} ${t.variant}: ${t.wallMs.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${msPerBatch.toFixed(0)}); CPU ${t.cpuMs.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    measured.push({
      model: name, shape: t.shape, label, variant: t.variant, layers: t.config.numHiddenLayers, hidden: t.config.hiddenSize, msPerBatch,
      cpuMsPerBatch: median(t.cpuMs), textsPerSec: o.batch / (msPerBatch / 1000), modelMb: t.modelMb,
      ...(profiled ? { opTypes: profiled } : {}),
    });
  }
  return measured;
}

export async function benchInfer(o: InferBenchOptions, log: (line: string) => void = () => {}): Promise<InferBenchResult> {
  const measured: TimedRow[] = [];
  const models = [...o.models.map((name) => presetModel(name, o)), ...(await Promise.all((o.dirs ?? []).map(dirModel)))];
  for (const m of models) measured.push(...(await timeShapes(m, o, log)));
  const baseline = measured.find((r) => r.model === BASELINE && r.shape === '' && r.variant === 'fp32');
  const rows = measured.map((r) => {
    const unpruned = r.shape === '' ? undefined : measured.find((u) => u.model === r.model && u.shape === '' && u.variant === 'fp32');
    return {
      ...r,
      speedup: baseline ? baseline.msPerBatch / r.msPerBatch : null,
      cpuSpeedup: baseline ? baseline.cpuMsPerBatch / r.cpuMsPerBatch : null,
      paperSpeedup: r.shape === '' && isPresetName(r.model) ? (PAPER_SPEEDUPS[r.model]?.[r.variant] ?? null) : null,
      speedupOverUnpruned: unpruned ? unpruned.msPerBatch / r.msPerBatch : null,
    };
  });
  return {
    batch: o.batch, seq: o.seq, threads: o.threads, iterations: o.iterations, warmup: o.warmup,
    fused: `fused graph, '${o.epilogues}' epilogues`,
    int8: `dynamic int8 (DynamicQuantizeMatMul + QAttention), weights ${o.perChannel ? 'per channel' : 'per tensor'}`,
    rows, peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

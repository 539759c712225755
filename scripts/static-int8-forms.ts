// Times the static int8 forms against fp32 and dynamic int8 on one small random encoder, with ONNX Runtime's graph
// optimizations on as serving uses them, and lists the ops ONNX Runtime ends up running for each (its optimized
// model). Variants run in turn, batch by batch, so a change of load falls on all of them alike.
//   npx tsx scripts/static-int8-forms.ts [--layers 6] [--hidden 384] [--batch 8] [--seq 128] [--iterations 10] [--threads 1]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import { serialize } from '../src/builder/serialize.ts';
import { fusedInferenceGraph } from '../src/export/fused.ts';
import { referenceInferenceGraph } from '../src/export/graph.ts';
import { quantizeDynamicInt8 } from '../src/export/quantize.ts';
import { quantizeStaticInt8, staticInt8Layers } from '../src/export/quantize-static.ts';
import { paddedBatch } from '../src/infer/batching.ts';
import type { Parameter } from '../src/ir/params.ts';
import { encoderConfig } from '../src/models/config.ts';
import type { TaskHead } from '../src/models/heads.ts';
import ort from '../src/runtime/ort.ts';
import { Random } from '../src/util/random.ts';

const { values: a } = parseArgs({ options: { layers: { type: 'string', default: '6' }, hidden: { type: 'string', default: '384' }, batch: { type: 'string', default: '8' }, seq: { type: 'string', default: '128' }, iterations: { type: 'string', default: '10' }, threads: { type: 'string', default: '1' } } });
const hidden = Number(a.hidden);
const config = encoderConfig({ vocabSize: 1000, hiddenSize: hidden, numHiddenLayers: Number(a.layers), numAttentionHeads: hidden / 64, intermediateSize: 4 * hidden, maxPositionEmbeddings: 514, typeVocabSize: 1, layerNormEps: 1e-5 });
const tasks: TaskHead[] = [{ name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] }];
const options = { pooling: 'cls', headStyle: 'linear', positions: { convention: 'roberta', paddingIdx: 1 } } as const;
const random = new Random(1);
const params = new Map<string, Parameter>();
for (const p of referenceInferenceGraph(config, tasks, options).params) {
  const shape = p.shape as number[];
  const data = new Float32Array(shape.reduce((x, y) => x * y, 1)).map(() => (/LayerNorm\.weight$/.test(p.name) ? 1 : 0) + random.normal() * 0.02);
  params.set(p.name, { name: p.name, shape, data });
}
const fused = fusedInferenceGraph(config, tasks, options, params);
const ranges = new Map(staticInt8Layers(fused.graph, fused.params).map((l) => [l.layer, { min: -4, max: 4 }]));
const variants: Record<string, Uint8Array> = {
  fp32: serialize(fused.graph, { params: fused.params }),
  dynamic: (() => { const q = quantizeDynamicInt8(fused.graph, fused.params, { perChannel: true }); return serialize(q.graph, { params: q.params }); })(),
  'static-qoperator': (() => { const q = quantizeStaticInt8(fused.graph, fused.params, { perChannel: true, ranges, form: 'qoperator' }); return serialize(q.graph, { params: q.params }); })(),
  'static-qdq': (() => { const q = quantizeStaticInt8(fused.graph, fused.params, { perChannel: true, ranges, form: 'qdq' }); return serialize(q.graph, { params: q.params }); })(),
  // Per tensor as well: ONNX Runtime's QDQ fusions accept fewer per-channel patterns.
  'static-qdq-per-tensor': (() => { const q = quantizeStaticInt8(fused.graph, fused.params, { perChannel: false, ranges, form: 'qdq' }); return serialize(q.graph, { params: q.params }); })(),
};
const dir = mkdtempSync(join(tmpdir(), 'xlmt-forms-'));
const sessions: Record<string, ort.InferenceSession> = {};
for (const [name, bytes] of Object.entries(variants)) {
  const optimizedModelFilePath = join(dir, `${name}.onnx`);
  sessions[name] = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: Number(a.threads), interOpNumThreads: 1, executionMode: 'sequential', optimizedModelFilePath, logSeverityLevel: 3 });
  const ops: Record<string, number> = {};
  for (const n of onnxProto.onnx.ModelProto.decode(readFileSync(optimizedModelFilePath)).graph?.node ?? []) ops[n.opType ?? ''] = (ops[n.opType ?? ''] ?? 0) + 1;
  console.log(`${name}: ${(bytes.length / 1e6).toFixed(1)} MB; ORT runs ${Object.entries(ops).sort((x, y) => y[1] - x[1]).map(([op, n]) => `${op} ${n}`).join(', ')}`);
}
rmSync(dir, { recursive: true });
const rows = Array.from({ length: Number(a.batch) }, () => Int32Array.from({ length: Number(a.seq) }, (_, i) => (i === 0 ? 0 : 5 + random.int(990))));
const feeds = Object.fromEntries(Object.entries(paddedBatch(rows, 1)).map(([k, t]) => [k, new ort.Tensor('int64', t.data as BigInt64Array, [...t.shape])]));
const times: Record<string, { cpu: number[]; wall: number[] }> = Object.fromEntries(Object.keys(sessions).map((k) => [k, { cpu: [], wall: [] }]));
for (let i = -1; i < Number(a.iterations); i++) {
  for (const [name, s] of Object.entries(sessions)) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await s.run(feeds);
    const wall = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (i >= 0) { // the first round warms up
      times[name]?.cpu.push((used.user + used.system) / 1000);
      times[name]?.wall.push(wall);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
for (const [name, t] of Object.entries(times)) {
  console.log(`${name}: median ${median(t.wall).toFixed(1)} ms wall, ${median(t.cpu).toFixed(1)} ms CPU per batch of ${a.batch} × ${a.seq} (CPU min ${Math.min(...t.cpu).toFixed(1)}, max ${Math.max(...t.cpu).toFixed(1)})`);
}
for (const s of Object.values(sessions)) await s.release();

// The quantization-aware pass on a tiny two-task encoder's training graph: every dense layer's weight and input is
// fake-quantized (traced node by node), the graph runs in ONNX Runtime with a loss near the fp32 one, and autodiff
// differentiates it (word-table gradients stay rows, LSQ steps get gradients).
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../../src/autodiff/training-graph.ts';
import { denseWeight, GraphBuilder } from '../../../src/builder/index.ts';
import { EmaRanges } from '../../../src/compress/quantize/ema-ranges.ts';
import { lsqInitialSteps } from '../../../src/compress/quantize/lsq.ts';
import { inputMaxAbsName, inputRangeName } from '../../../src/compress/quantize/names.ts';
import { observedMaxAbs, type QatGraph, type QatOptions, quantizationAwareGraph } from '../../../src/compress/quantize/qat-graph.ts';
import type { Graph, Node, Value } from '../../../src/ir/graph.ts';
import type { Parameter } from '../../../src/ir/params.ts';
import type { TensorData } from '../../../src/ir/tensor.ts';
import { dropoutMasks } from '../../../src/models/dropout.ts';
import type { TaskHead } from '../../../src/models/heads.ts';
import { initParams } from '../../../src/models/init.ts';
import { labelInput, labelMaskInput, multiTaskForward, multiTaskLoss } from '../../../src/models/multitask.ts';
import { Session } from '../../../src/runtime/session.ts';
import { mulberry32 } from '../../autodiff/gradcheck.ts';
import { paddedBatch, runOnce, studentConfig } from '../distill/encoders.ts';

const tasks: readonly TaskHead[] = [
  { name: 'sentiment', type: 'multiclass', labels: ['negative', 'neutral', 'positive'] },
  { name: 'topics', type: 'multilabel', labels: ['price', 'staff'] },
];

/** The fp32 forward half of a classifier's training graph and its loss, as train/graph.ts builds it. */
function forward(): { g: GraphBuilder; graph: Graph; loss: Value } {
  const g = new GraphBuilder('train');
  const { logits } = multiTaskForward(g, studentConfig, tasks, { training: true, pooling: 'cls', headStyle: 'linear' });
  const loss = multiTaskLoss(g, tasks, logits);
  return { g, graph: g.build(), loss };
}

function qat(options: QatOptions): { source: Graph; qat: QatGraph } {
  const { graph, loss } = forward();
  return { source: graph, qat: quantizationAwareGraph(graph, loss, options) };
}

/** A forward-only graph returning the loss (and whatever else is named). */
function withLoss(g: GraphBuilder, loss: Value, extra: Readonly<Record<string, Value>> = {}): Graph {
  g.output('loss', loss);
  for (const [name, v] of Object.entries(extra)) g.output(name, v);
  return g.build();
}

/** Two padded sequences of 4 tokens, labels for both tasks, dropout masks of step 0. */
function batch(graph: Graph): Record<string, TensorData> {
  const { feeds } = paddedBatch([4, 3], 4, mulberry32(17));
  feeds[labelInput('sentiment')] = { dtype: 'float32', shape: [2, 3], data: Float32Array.of(0, 0, 1, 1, 0, 0) };
  feeds[labelMaskInput('sentiment')] = { dtype: 'float32', shape: [2], data: Float32Array.of(1, 1) };
  feeds[labelInput('topics')] = { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 0, 1, 1) };
  feeds[labelMaskInput('topics')] = { dtype: 'float32', shape: [2], data: Float32Array.of(1, 0) };
  return { ...feeds, ...dropoutMasks(graph, { batch: 2, seq: 4 }, 3, 0) };
}

const params = (graph: Graph): Map<string, Parameter> => initParams(graph, 5, 0.2);

/** The tensor x that fakeQuantize(x, s) made `v` from, and s; undefined when v is no fake-quantized value. */
function fakeQuantSource(v: Value | null): { x: Value; scale: Value } | undefined {
  const producer = (u: Value | null | undefined, op: string): Node | undefined => (u?.producer?.node.opType === op ? u.producer.node : undefined);
  const mul = producer(v, 'Mul');
  const add = producer(mul?.inputs[0], 'Add');
  const codes = add?.inputs[0]?.producer?.node;
  const round = codes?.stopGradient ? producer(codes.inputs[0], 'Round') : undefined;
  const div = producer(producer(round?.inputs[0], 'Clip')?.inputs[0], 'Div');
  if (!div || !mul) return undefined;
  return { x: div.inputs[0] as Value, scale: mul.inputs[1] as Value };
}

const floatLoss = (out: Record<string, TensorData>): number => Number(out.loss?.data[0]);

/** The 'ema' graph of `graph`, run once on a batch with ranges 0, its maxima observed: the ranges a first step sees. */
async function observedOnce(graph: Graph, loss: Value): Promise<{ emaGraph: Graph; store: Map<string, Parameter>; feeds: Record<string, TensorData>; ranges: EmaRanges }> {
  const ema = quantizationAwareGraph(graph, loss, { activations: 'ema' });
  const emaGraph = withLoss(ema.g, ema.loss, observedMaxAbs(ema));
  const store = params(graph);
  const feeds = batch(graph);
  const ranges = new EmaRanges(ema.activations.map((a) => a.layer));
  ranges.observeOutputs(await runOnce(emaGraph, { ...feeds, ...ranges.feeds() }, store));
  return { emaGraph, store, feeds, ranges };
}

describe('the quantization-aware pass', () => {
  it('fake-quantizes every dense layer: weights per output channel, inputs per tensor', () => {
    const { source, qat: q } = qat({ activations: 'ema' });
    const dense = source.nodes.filter((n) => denseWeight(n) !== undefined);
    // 2 layers × (query, key, value, attention output, intermediate, output) + one linear head per task.
    expect(dense.length).toBe(14);
    expect(q.layers.map((l) => l.node)).toEqual(dense.map((n) => n.name));
    expect(q.skipped).toEqual([]);

    const rewritten = new Map(q.g.build().nodes.map((n) => [n.name, n]));
    for (const node of dense) {
      const copy = rewritten.get(node.name);
      const weight = fakeQuantSource(copy?.inputs[1] ?? null);
      const input = fakeQuantSource(copy?.inputs[0] ?? null);
      expect(weight?.x.kind, node.name).toBe('param');
      expect(weight?.x.name, node.name).toBe(node.inputs[1]?.name);
      // Gemm with transB: W [out, in], one scale per row of W, [out, 1] against it.
      expect(weight?.scale.shape, node.name).toEqual([node.inputs[1]?.shape[0], 1]);
      expect(input?.x.name, node.name).toBe(node.inputs[0]?.name);
      expect(input?.scale.shape, node.name).toEqual([]);
    }
    // The source graph is not touched: its dense layers still read their parameters directly.
    for (const node of dense) expect(node.inputs[1]?.kind).toBe('param');
  });

  it('gives query, key and value one input quantizer (they read one tensor), the two heads another', () => {
    const { qat: q } = qat({ activations: 'ema' });
    // Per layer: query/key/value, attention output, intermediate, output; then the heads' shared input.
    expect(q.activations.map((a) => a.layer)).toEqual([
      ...[0, 1].flatMap((i) => [`encoder.layer.${i}.attention.self.query`, `encoder.layer.${i}.attention.output.dense`, `encoder.layer.${i}.intermediate.dense`, `encoder.layer.${i}.output.dense`]),
      'heads.sentiment',
    ]);
    const byLayer = Object.fromEntries(q.layers.map((l) => [l.weight, l.input]));
    expect(byLayer['encoder.layer.1.attention.self.value.weight']).toBe('encoder.layer.1.attention.self.query');
    expect(byLayer['heads.topics.weight']).toBe('heads.sentiment');
    expect(q.g.build().inputs.filter((v) => v.name.endsWith('.input_range')).map((v) => v.name)).toEqual(q.activations.map((a) => inputRangeName(a.layer)));
  });

  it('leaves the layers the option excludes in fp32, saying why', () => {
    const { qat: q } = qat({ activations: 'ema', layers: (weight) => weight.startsWith('encoder.') });
    expect(q.layers.length).toBe(12);
    expect(q.skipped).toEqual([
      { node: 'heads.sentiment/Gemm', opType: 'Gemm', reason: 'left out by the layers option' },
      { node: 'heads.topics/Gemm', opType: 'Gemm', reason: 'left out by the layers option' },
    ]);
    const heads = q.g.build().nodes.filter((n) => n.name.startsWith('heads.') && n.opType === 'Gemm');
    for (const n of heads) expect(n.inputs[1]?.kind).toBe('param');
  });

  it('runs in ONNX Runtime with a loss within 0.5% of the fp32 loss, and not equal to it', async () => {
    const { g, graph, loss } = forward();
    const q = quantizationAwareGraph(graph, loss, { activations: 'ema' });
    const qGraph = withLoss(q.g, q.loss, observedMaxAbs(q));
    const store = params(graph);
    const feeds = batch(graph);
    const fp32 = floatLoss(await runOnce(withLoss(g, loss), feeds, store));
    // Ranges 0: the first step, every activation quantized with its own max|x|.
    const ranges = new EmaRanges(q.activations.map((a) => a.layer));
    const out = await runOnce(qGraph, { ...feeds, ...ranges.feeds() }, store);
    const quantized = floatLoss(out);
    expect(Number.isFinite(fp32)).toBe(true);
    expect(Math.abs(quantized - fp32)).toBeLessThan(0.005 * Math.abs(fp32));
    expect(quantized).not.toBe(fp32);

    // The observed max|x| fed back as ranges quantizes exactly as the first step did.
    ranges.observeOutputs(out);
    for (const a of q.activations) expect(ranges.range(a.layer)).toBe(Number(out[inputMaxAbsName(a.layer)]?.data[0]));
    expect(floatLoss(await runOnce(qGraph, { ...feeds, ...ranges.feeds() }, store))).toBe(quantized);
    // Ranges a quarter as wide clip most of every activation: the loss moves.
    const narrow = ranges.feeds();
    for (const t of Object.values(narrow)) (t.data as Float32Array)[0] = Number(t.data[0]) / 4;
    expect(Math.abs(floatLoss(await runOnce(qGraph, { ...feeds, ...narrow }, store)) - quantized)).toBeGreaterThan(1e-4);
  });

  it('with LSQ steps started from the observed ranges, computes the loss of the ema graph fed those ranges', async () => {
    const { graph, loss } = forward();
    const { emaGraph, store, feeds, ranges } = await observedOnce(graph, loss);
    const emaLoss = floatLoss(await runOnce(emaGraph, { ...feeds, ...ranges.feeds() }, store));

    const lsq = quantizationAwareGraph(graph, loss, { activations: 'lsq' });
    expect(lsq.g.build().params.filter((p) => p.name.endsWith('.input_scale')).length).toBe(9);
    const lsqLoss = floatLoss(await runOnce(withLoss(lsq.g, lsq.loss), feeds, new Map([...store, ...lsqInitialSteps(ranges)])));
    // range/127 in JS (double, then float32) against in the graph (float32): a scale may differ in its last bit.
    expect(Math.abs(lsqLoss - emaLoss)).toBeLessThan(1e-5);
  });

  it('differentiates: every weight and LSQ step gets a finite gradient, the word table rows', async () => {
    const { graph, loss } = forward();
    const q = quantizationAwareGraph(graph, loss, { activations: 'lsq', wordEmbeddings: true });
    expect(q.embeddings).toEqual(['embeddings.word_embeddings.weight']);
    const t = trainingGraph(q.g, { loss: q.loss });
    expect(t.unreachable).toEqual([]);
    expect(t.gradients.get('embeddings.word_embeddings.weight')?.kind).toBe('rows');

    const { store, feeds, ranges } = await observedOnce(graph, loss);
    const out = await runOnce(t.graph, feeds, new Map([...store, ...lsqInitialSteps(ranges)]));
    expect(Number.isFinite(floatLoss(out))).toBe(true);
    for (const [param, grad] of t.gradients) {
      const values = grad.kind === 'dense' ? out[grad.name]?.data : out[grad.values]?.data;
      expect(values, param).toBeDefined();
      expect(Array.from(values as Float32Array).every(Number.isFinite), param).toBe(true);
      if (param.endsWith('.weight') || param.endsWith('.input_scale')) expect(Array.from(values as Float32Array).some((v) => v !== 0), param).toBe(true);
    }
  });

  it('trains: SGD steps through the straight-through gradients lower the loss, the ranges tracked along', async () => {
    const { graph, loss } = forward();
    const q = quantizationAwareGraph(graph, loss, { activations: 'ema' });
    const t = trainingGraph(q.g, { loss: q.loss, outputs: observedMaxAbs(q), dense: true });
    const store = params(graph);
    const feeds = batch(graph);
    const ranges = new EmaRanges(q.activations.map((a) => a.layer), 0.9);
    const session = await Session.create(t.graph, { threads: 1 });
    const losses: number[] = [];
    try {
      for (let step = 0; step < 30; step++) {
        const out = await session.run({ ...feeds, ...ranges.feeds() }, store);
        losses.push(floatLoss(out));
        ranges.observeOutputs(out);
        for (const [name, grad] of t.gradients) {
          if (grad.kind !== 'dense') throw new Error(`${name}: expected a dense gradient`);
          const p = store.get(name) as Parameter;
          const g = out[grad.name]?.data as Float32Array;
          for (let i = 0; i < p.data.length; i++) p.data[i] = (p.data[i] as number) - 0.1 * (g[i] as number);
        }
      }
    } finally {
      await session.release();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1) as number).toBeLessThan(0.5 * (losses[0] as number));
    expect(q.activations.every((a) => (ranges.range(a.layer) ?? 0) > 0)).toBe(true);
  });

  it('refuses a loss that is not a value of the graph', () => {
    const { graph } = forward();
    const other = new GraphBuilder('other');
    const stray = other.op.Neg(other.input('x', 'float32', []));
    expect(() => quantizationAwareGraph(graph, stray, { activations: 'ema' })).toThrow(/the loss is no node output of graph train/);
  });
});

// Where a run's forward graph (graph.ts) becomes its training graph, once for every objective: the graph passes that
// must see the graph before autodiff (quantization-aware training, compress/quantize/) and then autodiff itself.
import { trainingGraph, type TrainingGraph } from '../autodiff/training-graph.ts';
import type { GraphBuilder } from '../builder/builder.ts';
import { EmaRanges, inputScaleName, observedMaxAbs, type QatOptions, quantizationAwareGraph } from '../compress/quantize/index.ts';
import { XlmtError } from '../errors/index.ts';
import type { Graph, Value } from '../ir/graph.ts';
import type { QatConfig } from './config.ts';
import type { ClassifierForward } from './graph.ts';

/**
 * The dense layers QAT fake-quantizes: the encoder's, those the int8 export quantizes (export/quantize.ts). The
 * pooler and the task heads stay fp32 there, so they train fp32 here: training sees what serving will compute.
 */
export const qatLayers = (weight: string): boolean => weight.startsWith('encoder.');

/** What a QAT run keeps beside its training graph. */
export interface QatRun {
  readonly settings: QatConfig;
  /** The pass's options: the evaluation graph (predict.ts) gets the same quantizers. */
  readonly options: QatOptions;
  /** The activation quantizers by layer name (compress/quantize/names.ts), in graph order. */
  readonly layers: readonly string[];
  /** The dense layers quantized, by weight name. */
  readonly weights: readonly string[];
  /** 'ema': the ranges fed to every step and updated from its max|x| outputs; null with 'lsq'. */
  readonly ranges: EmaRanges | null;
  /**
   * 'lsq': the same forward graph with 'ema' quantizers, returning each quantizer's max|x| only: run on calibration
   * batches to set the learned steps' starting values (qat-calibration.ts). null with 'ema'.
   */
  readonly calibration: Graph | null;
}

export interface DifferentiatedRun {
  readonly training: TrainingGraph;
  readonly qat: QatRun | null;
}

/** The parameters of `g` by name, in the order named. */
function paramsByName(g: GraphBuilder, names: readonly string[]): Value[] {
  const params = new Map(g.build().params.map((v) => [v.name, v]));
  return names.map((name) => {
    const v = params.get(name);
    if (!v) throw new XlmtError({ code: 'INTERNAL', where: { api: 'differentiate', tensor: name }, message: 'a parameter to differentiate is not in the graph' });
    return v;
  });
}

/**
 * The training graph of `forward`; with `qat`, of its quantization-aware copy, whose LSQ steps are differentiated
 * whatever `trainable` freezes (they belong to the quantizers, not to the model), and whose 'ema' max|x| are
 * outputs beside the objective's own.
 */
export function differentiate(forward: ClassifierForward, qat: QatConfig | undefined): DifferentiatedRun {
  if (qat === undefined) {
    const training = trainingGraph(forward.g, {
      loss: forward.loss, params: paramsByName(forward.g, forward.params), ...(forward.outputs ? { outputs: forward.outputs } : {}),
    });
    return { training, qat: null };
  }
  const options: QatOptions = { activations: qat.activations, wordEmbeddings: qat.wordEmbeddings, layers: qatLayers, weightBits: qat.weightBits };
  const source = forward.g.build();
  const pass = quantizationAwareGraph(source, forward.loss, options);
  const steps = pass.activations.flatMap((a) => (a.kind === 'lsq' ? [inputScaleName(a.layer)] : []));
  const copied = Object.fromEntries(Object.entries(forward.outputs ?? {}).map(([name, v]) => [name, pass.copyOf(v)]));
  const training = trainingGraph(pass.g, {
    loss: pass.loss, outputs: { ...copied, ...observedMaxAbs(pass) }, params: paramsByName(pass.g, [...forward.params, ...steps]),
  });
  const layers = pass.activations.map((a) => a.layer);
  return {
    training,
    qat: {
      settings: qat, options, layers, weights: pass.layers.map((l) => l.weight),
      ranges: qat.activations === 'ema' ? new EmaRanges(layers) : null,
      calibration: qat.activations === 'lsq' ? calibrationGraph(source, forward.loss, options) : null,
    },
  };
}

/** The 'ema' pass of the same source, its max|x| the only outputs. */
function calibrationGraph(source: Graph, loss: Value, options: QatOptions): Graph {
  const ema = quantizationAwareGraph(source, loss, { ...options, activations: 'ema' });
  for (const [name, v] of Object.entries(observedMaxAbs(ema))) ema.g.output(name, v);
  return ema.g.build();
}

// The int8 export of a model trained with quantization-aware training (`xlmt train --qat`): static int8 whose
// activation ranges are the ones the training learned (xlmt.json `quantization.inputRanges`), with the weights per
// output channel as the training fake-quantized them, and a check against the QAT model's own fake-quantized
// forward pass beside the usual one against fp32.
//
// The training keeps one symmetric range R per quantizer (scale R/127, codes −127…127); the export's static pass
// quantizes activations to uint8 codes on that same grid (scale R/127, zero point 128: quantize-static.ts's 'int8'
// grid), so that its integer kernels see the codes the training rounded to. Query, key and value share one
// quantizer in training, named after the query (compress/quantize/qat-graph.ts); the export packs the three into one
// `qkv` layer, which takes it.
import { type QatOptions } from '../compress/quantize/index.ts';
import { inputRangeName } from '../compress/quantize/names.ts';
import { XlmtError } from '../errors/index.ts';
import type { Graph } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import type { ModelMeta } from '../model-dir/index.ts';
import type { Feeds } from '../runtime/session.ts';
import { qatLayers } from '../train/differentiate.ts';
import type { TrainedModel } from '../train/model-dir.ts';
import { Predictor } from '../train/predict.ts';
import type { ActivationRange } from './calibrate.ts';
import type { OtherForward } from './check.ts';
import type { WeightRangeChoice } from './cpu-features.ts';
import type { WeightBits } from './int8.ts';
import { staticInt8Layers } from './quantize-static.ts';

export type QatRecord = NonNullable<ModelMeta['quantization']>;

const PACKED_QKV = /\.attention\.self\.qkv$/;

/** The training's quantizer of an export layer: its own name, or for the packed QKV the query's, which Q, K, V share. */
function trainedRange(layer: string, ranges: Readonly<Record<string, number>>): number | undefined {
  return ranges[layer] ?? (PACKED_QKV.test(layer) ? ranges[layer.replace(PACKED_QKV, '.attention.self.query')] : undefined);
}

/** The static pass's input range of every layer it quantizes, from the ranges a QAT run recorded: [−R, R], for the 'int8' grid. */
export function qatRanges(graph: Graph, params: ParamStore, qat: QatRecord, modelDir: string): Map<string, ActivationRange> {
  const ranges = new Map<string, ActivationRange>();
  for (const { layer } of staticInt8Layers(graph, params)) {
    const r = trainedRange(layer, qat.inputRanges);
    if (r === undefined || !Number.isFinite(r) || r < 0) {
      throw new XlmtError({
        code: 'NOT_A_MODEL',
        where: { file: `${modelDir}/xlmt.json`, field: 'quantization.inputRanges', tensor: layer },
        message: 'the quantization-aware training recorded no input range for a layer the int8 export quantizes',
        expected: `a range for ${layer}`,
        received: `ranges for ${Object.keys(qat.inputRanges).length} layers`,
        hint: 'export the model the QAT run wrote (RUN/best), or give --static --calibration FILE to calibrate instead',
      });
    }
    ranges.set(layer, { min: -r, max: r });
  }
  return ranges;
}

/** The weight grid a QAT model trained on: 8 for models recorded before `weightBits` was. */
const trainedWeightBits = (qat: QatRecord): WeightBits => qat.weightBits ?? 8;

/**
 * The weight grid of a QAT model's export: the one its training simulated (`weightBits`, 8 for models recorded
 * before the field), unless `--weight-bits` says otherwise or the serving CPU needs 7 bits where it trained on 8:
 * 8-bit codes would saturate there (cpu-features.ts), so the weights are rounded afresh to 7 bits, off the trained
 * grid, and the reason says so; the check against the fake-quantized model then measures what that costs.
 * `cpu` is cpu-features.ts's choice, made with `explicit` (the `--weight-bits` given, if any).
 */
export function qatWeightBits(qat: QatRecord, cpu: WeightRangeChoice, explicit?: WeightBits): WeightRangeChoice {
  const trained = trainedWeightBits(qat);
  if (explicit !== undefined) {
    return explicit === trained ? cpu : { ...cpu, reason: `${cpu.reason}, not the ${trained}-bit grid the quantization-aware training simulated` };
  }
  if (cpu.bits < trained) {
    return { ...cpu, reason: `${cpu.reason}; the quantization-aware training simulated ${trained}-bit weights, so they are rounded afresh off its grid (train with qat.weightBits ${cpu.bits} to serve what the training simulated)` };
  }
  return { bits: trained, reason: `the ${trained}-bit weight grid the quantization-aware training simulated`, features: cpu.features };
}

/** The QAT model's fake-quantized forward pass with its recorded ranges, as its training evaluated it on dev. */
export function fakeQuantizedForward(model: TrainedModel, qat: QatRecord, threads: number): OtherForward {
  // 'lsq' ranges are recorded as 127·|step|: fed to the 'ema' quantizers they give the same scales.
  const options: QatOptions = { activations: 'ema', wordEmbeddings: qat.wordEmbeddings, layers: qatLayers, weightBits: trainedWeightBits(qat) };
  const feeds: Feeds = Object.fromEntries(Object.entries(qat.inputRanges).map(([layer, r]) => [inputRangeName(layer), { dtype: 'float32', shape: [], data: Float32Array.of(r) }]));
  return {
    probabilities: async (ids) => {
      const predictor = await Predictor.create(model.hf.encoder, model.schema.tasks, {
        padId: model.meta.padId, positions: model.meta.positions, pooling: model.meta.pooling, headStyle: model.meta.headStyle,
        threads, batchSize: 32, quantized: { options, ranges: () => feeds },
      });
      try {
        return await predictor.predict({ ids, maxLength: model.meta.maxLength, truncated: 0 }, ids.map((_, i) => i), model.params);
      } finally {
        await predictor.release();
      }
    },
  };
}

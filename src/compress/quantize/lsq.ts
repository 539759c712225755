// Where LSQ's learned step sizes start: max|x|/127 of each quantizer's input, observed on calibration batches by the
// 'ema' graph of the same model (fed range 0, each activation is quantized with its own max|x|, so the maxima are
// those of a quantized network). The grid LSQ starts from is then the one max-calibrated static int8 would use.
// Esser et al. (2020) start from 2·mean|x|/√127 instead, a narrower range that clips more; max|x| keeps the first
// steps close to the fp32 model that QAT starts from.
import { XlmtError } from '../../errors/index.ts';
import type { Parameter } from '../../ir/params.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { INT8_MAX } from './fake-quant.ts';
import { inputMaxAbsName, inputScaleName } from './names.ts';

export interface ObservedRanges {
  readonly layers: readonly string[];
  range(layer: string): number | undefined;
}

/** One step-size parameter per quantizer (float32 [], named by names.ts), from ranges every quantizer has. */
export function lsqInitialSteps(observed: ObservedRanges): Map<string, Parameter> {
  const steps = new Map<string, Parameter>();
  for (const layer of observed.layers) {
    const range = observed.range(layer);
    if (range === undefined) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'lsqInitialSteps', tensor: inputScaleName(layer) }, message: 'the quantizer has no observed range', hint: 'run a calibration batch through the ema graph first' });
    }
    // An input that was 0 everywhere gets step 1, as fake-quant.ts scaleOfRange gives it.
    const step = range > 0 ? range / INT8_MAX : 1;
    steps.set(inputScaleName(layer), { name: inputScaleName(layer), shape: [], data: Float32Array.of(step) });
  }
  return steps;
}

/**
 * The largest max|x| of each quantizer over calibration batches, as max calibration of static int8 takes it: a
 * range set by every batch seen rather than by the first (EmaRanges' decay of 0.9999 would leave it there).
 */
export class MaxRanges implements ObservedRanges {
  private readonly maxima = new Map<string, number>();

  constructor(readonly layers: readonly string[]) {}

  range(layer: string): number | undefined {
    return this.maxima.get(layer);
  }

  /** Folds in one batch's max|x| outputs of the 'ema' graph (qat-graph.ts observedMaxAbs). */
  observeOutputs(results: Readonly<Record<string, TensorData>>): void {
    for (const layer of this.layers) {
      const m = Number(results[inputMaxAbsName(layer)]?.data[0]);
      if (!Number.isFinite(m) || m < 0) {
        throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'MaxRanges.observeOutputs', tensor: inputMaxAbsName(layer) }, message: 'no usable max|x| for this quantizer', expected: 'a finite number ≥ 0', received: String(m) });
      }
      this.maxima.set(layer, Math.max(m, this.maxima.get(layer) ?? 0));
    }
  }
}

// Where LSQ's learned step sizes start: max|x|/127 of each quantizer's input, observed on calibration batches by the
// 'ema' graph of the same model (fed range 0, each activation is quantized with its own max|x|, so the maxima are
// those of a quantized network). The grid LSQ starts from is then the one max-calibrated static int8 would use.
// Esser et al. (2020) start from 2·mean|x|/√127 instead, a narrower range that clips more; max|x| keeps the first
// steps close to the fp32 model that QAT starts from.
import { XlmtError } from '../../errors/index.ts';
import type { Parameter } from '../../ir/params.ts';
import { INT8_MAX } from './fake-quant.ts';
import { inputScaleName } from './names.ts';

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

// What a QAT run (differentiate.ts) keeps beyond its parameters, and where it goes: the 'ema' input ranges into
// every checkpoint (objective.json), so that a resumed run quantizes as the unbroken one did; and with the best model,
// xlmt.json's `quantization` section (model-dir/meta.ts): each quantizer's input range, from the moving averages
// ('ema') or from the learned steps, 127·|s| ('lsq'), which leave model.safetensors: the model stays a plain
// Hugging Face checkpoint, loadable as any other, and the ranges sit where a static int8 export reads them.
import { INT8_MAX, inputScaleName } from '../compress/quantize/index.ts';
import { XlmtError } from '../errors/index.ts';
import type { ParamStore } from '../ir/params.ts';
import type { ModelMeta } from '../model-dir/index.ts';
import type { QatRun } from './differentiate.ts';
import type { ObjectiveState } from './loop/index.ts';

/** The 'ema' ranges as a checkpoint's objective state; undefined for a run without them. */
export function qatCheckpointState(qat: QatRun | null): ObjectiveState | undefined {
  const ranges = qat?.ranges;
  if (!ranges) return undefined;
  return {
    save: () => ({ qat: { activations: 'ema', inputRanges: ranges.toJSON() } }),
    restore: (saved, file) => {
      const section = (saved as { qat?: { activations?: unknown; inputRanges?: unknown } } | null)?.qat;
      if (section?.activations !== 'ema' || typeof section.inputRanges !== 'object' || section.inputRanges === null) {
        throw new XlmtError({ code: 'BAD_RUN_STATE', where: { file, field: 'qat' }, message: 'no moving-average input ranges in the checkpoint', expected: '{ "qat": { "activations": "ema", "inputRanges": { LAYER: RANGE } } }' });
      }
      try {
        ranges.restore(section.inputRanges as Record<string, number>);
      } catch (e) {
        throw new XlmtError({ code: 'BAD_RUN_STATE', where: { file, field: 'qat.inputRanges' }, message: `unusable input ranges: ${(e as Error).message}` }, { cause: e });
      }
    },
  };
}

/** The model as best/ holds it: without the learned steps, which go to the quantization section. */
export function withoutSteps(qat: QatRun | null, model: ParamStore): ParamStore {
  if (qat?.settings.activations !== 'lsq') return model;
  const steps = new Set(qat.layers.map(inputScaleName));
  return new Map([...model].filter(([name]) => !steps.has(name)));
}

/** xlmt.json's `quantization` section for the model `model` (as evaluated: with the learned steps of 'lsq'). */
export function quantizationSection(qat: QatRun, model: ParamStore): NonNullable<ModelMeta['quantization']> {
  const inputRanges: Record<string, number> = {};
  for (const layer of qat.layers) {
    // A step below 0 quantizes as its absolute value does: clip(round(x/s))·s is odd in s.
    const range = qat.ranges ? qat.ranges.range(layer) : INT8_MAX * Math.abs(Number(model.get(inputScaleName(layer))?.data[0]));
    if (range !== undefined && Number.isFinite(range)) inputRanges[layer] = range;
  }
  return { method: 'qat', activations: qat.settings.activations, wordEmbeddings: qat.settings.wordEmbeddings, weightBits: qat.settings.weightBits, inputRanges };
}

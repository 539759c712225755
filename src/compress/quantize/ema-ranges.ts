// Activation ranges as Q8BERT keeps them (Zafrir et al. 2019; IntelLabs nlp-architect): per quantizer, a moving
// average of max|x| over training steps. The first observation sets the range; each later one moves it by
// (1 − decay)·(max|x| − range).
//
// The range lives here, outside the graph: the 'ema' graph (qat-graph.ts) takes each range as an input and outputs
// the step's max|x|, and the trainer calls feeds() before a step and observeOutputs() after it. So a step quantizes
// with the average of the steps before it; Q8BERT folds the current batch in first. The difference is the weight
// (1 − decay) = 1e-4 of one batch, and it keeps the decay and the step count out of the graph. On the first step the
// fed range is 0, and the graph quantizes with the step's own max|x|, which is what Q8BERT's first step does.
import { XlmtError } from '../../errors/index.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { inputMaxAbsName, inputRangeName } from './names.ts';

/** Q8BERT's decay (nlp-architect's QuantizedLinear, ema_decay=0.9999). */
export const Q8BERT_EMA_DECAY = 0.9999;

export class EmaRanges {
  private readonly ranges = new Map<string, number>();

  /** `layers`: the quantizers' names (qat-graph.ts ActivationQuantizer.layer). */
  constructor(readonly layers: readonly string[], readonly decay: number = Q8BERT_EMA_DECAY) {
    if (!(decay >= 0 && decay < 1)) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'EmaRanges', field: 'decay' }, message: 'not a moving-average decay', expected: 'a number in [0, 1)', received: String(decay) });
    }
    if (new Set(layers).size !== layers.length) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'EmaRanges', field: 'layers' }, message: 'a quantizer is named twice' });
    }
  }

  /** The range of a quantizer; undefined until its first observation. */
  range(layer: string): number | undefined {
    return this.ranges.get(layer);
  }

  /** Fold one step's max|x| of every quantizer into its range. */
  observe(maxAbs: ReadonlyMap<string, number>): void {
    const checked = this.layers.map((layer) => {
      const m = maxAbs.get(layer);
      if (m === undefined || !Number.isFinite(m) || m < 0) {
        throw new XlmtError({
          code: 'BAD_ARGUMENT', where: { api: 'EmaRanges.observe', tensor: inputMaxAbsName(layer) },
          message: 'no usable max|x| for this quantizer', expected: 'a finite number ≥ 0', received: String(m),
        });
      }
      return [layer, m] as const;
    });
    for (const [layer, m] of checked) {
      const previous = this.ranges.get(layer);
      this.ranges.set(layer, previous === undefined ? m : previous - (1 - this.decay) * (previous - m));
    }
  }

  /** observe() from a step's results, which hold the graph's max|x| outputs (qat-graph.ts observedMaxAbs). */
  observeOutputs(results: Readonly<Record<string, TensorData>>): void {
    const maxAbs = new Map<string, number>();
    for (const layer of this.layers) {
      const t = results[inputMaxAbsName(layer)];
      if (t && t.data.length === 1) maxAbs.set(layer, Number(t.data[0]));
    }
    this.observe(maxAbs);
  }

  /** The range inputs of the next step, float32 []: 0 for a quantizer not yet observed. */
  feeds(): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    for (const layer of this.layers) feeds[inputRangeName(layer)] = { dtype: 'float32', shape: [], data: Float32Array.of(this.ranges.get(layer) ?? 0) };
    return feeds;
  }

  /** The observed ranges by layer, for a checkpoint. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.ranges);
  }

  /** Ranges saved by toJSON; quantizers absent from them start unobserved. */
  static fromJSON(layers: readonly string[], saved: Readonly<Record<string, number>>, decay: number = Q8BERT_EMA_DECAY): EmaRanges {
    const ranges = new EmaRanges(layers, decay);
    ranges.restore(saved);
    return ranges;
  }

  /** Replaces every range by those saved by toJSON (a resumed run's); quantizers absent from them become unobserved. */
  restore(saved: Readonly<Record<string, number>>): void {
    for (const [layer, r] of Object.entries(saved)) {
      if (!this.layers.includes(layer)) {
        throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'EmaRanges.restore', tensor: inputRangeName(layer) }, message: 'a saved range names no quantizer of this graph', hint: 'resume with the graph the ranges were saved from' });
      }
      if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) {
        throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'EmaRanges.restore', tensor: inputRangeName(layer) }, message: 'not a range', expected: 'a finite number ≥ 0', received: String(r) });
      }
    }
    this.ranges.clear();
    for (const [layer, r] of Object.entries(saved)) this.ranges.set(layer, r);
  }
}

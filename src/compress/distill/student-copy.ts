// A student of the teacher's hidden size, copied from it: the mapped layers kept (prune/cut.ts keepLayers), then
// each layer's attention heads and FFN neurons cut down to the student's counts (cutHeadsAndNeurons). Which heads
// and neurons stay is decided without data, by the size of what each one adds to the residual stream; for a choice
// by importance on labeled data, run `xlmt prune heads-ffn` on the teacher first and copy from its output.
import type { Parameter, ParamStore } from '../../ir/params.ts';
import { type EncoderConfig, layerShapes } from '../../models/config.ts';
import { type CutModel, cutHeadsAndNeurons, keepLayers, type LayerCut } from '../prune/cut.ts';

export interface CopiedLayers extends CutModel {
  /** Per student layer, the teacher's head indices (before any pruning) it keeps. */
  readonly heads: readonly (readonly number[])[];
  /** Per student layer, its FFN width. */
  readonly ffn: readonly number[];
}

/** The teacher's layers `layerMap` (ascending), with at most `heads` heads and `ffn` FFN neurons in each. */
export function copyLayers(teacher: EncoderConfig, params: ParamStore, layerMap: readonly number[], heads: number | undefined, ffn: number | undefined): CopiedLayers {
  const kept = keepLayers(teacher, params, layerMap);
  const cuts: Record<number, LayerCut> = {};
  layerShapes(kept.config).forEach((shape, layer) => {
    const prefix = `encoder.layer.${layer}.`;
    const get = (name: string): Parameter => kept.params.get(prefix + name) as Parameter;
    const cut: { removeHeads?: number[]; keepNeurons?: number[] } = {};
    if (heads !== undefined && heads < shape.heads.length) {
      // Head h's output is W_O[:, block h] · (attention-weighted values W_V[block h] x): bounded by the product of
      // the two blocks' norms, since attention weights sum to 1.
      const value = rowNorms(get('attention.self.value.weight'), shape.headSize);
      const output = columnNorms(get('attention.output.dense.weight'), shape.headSize);
      const keep = new Set(largest(value.map((v, i) => v * (output[i] as number)), heads));
      cut.removeHeads = shape.heads.filter((_, position) => !keep.has(position));
    }
    if (ffn !== undefined && ffn < shape.intermediateSize) {
      // Neuron n adds gelu(W_in[n] x) · W_out[:, n]: the norms of its input row and output column.
      const input = rowNorms(get('intermediate.dense.weight'), 1);
      const output = columnNorms(get('output.dense.weight'), 1);
      cut.keepNeurons = largest(input.map((v, i) => v * (output[i] as number)), ffn);
    }
    if (cut.removeHeads || cut.keepNeurons) cuts[layer] = cut;
  });
  const result = cutHeadsAndNeurons(kept.config, kept.params, cuts);
  const shapes = layerShapes(result.config);
  return { ...result, heads: shapes.map((s) => s.heads), ffn: shapes.map((s) => s.intermediateSize) };
}

/** Indices of the `count` largest scores (ties to the lower index), ascending. */
function largest(scores: readonly number[], count: number): number[] {
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, count)
    .map((s) => s.index)
    .sort((a, b) => a - b);
}

/** Frobenius norm of each block of `block` rows of a matrix [out, in]. */
function rowNorms(p: Parameter, block: number): number[] {
  const width = p.shape[1] as number;
  const rows = p.shape[0] as number;
  const norms = new Array<number>(rows / block).fill(0);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) sum += (p.data[r * width + c] as number) ** 2;
    const b = Math.floor(r / block);
    norms[b] = (norms[b] as number) + sum;
  }
  return norms.map(Math.sqrt);
}

/** Frobenius norm of each block of `block` columns of a matrix [out, in]. */
function columnNorms(p: Parameter, block: number): number[] {
  const width = p.shape[1] as number;
  const rows = p.shape[0] as number;
  const norms = new Array<number>(width / block).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const b = Math.floor(c / block);
      norms[b] = (norms[b] as number) + (p.data[r * width + c] as number) ** 2;
    }
  }
  return norms.map(Math.sqrt);
}

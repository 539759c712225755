// Physical pruning: new, smaller matrices for an encoder whose layers, heads or FFN neurons are removed, with the
// configuration that describes them. Nothing here decides what to remove (see importance.ts and the commands);
// these functions only cut, and a cut model computes exactly what the original computes with the removed parts'
// contributions zeroed (test/compress/cut.test.ts).
//
// Layouts (Hugging Face's, weights [out, in]): a layer's query, key and value rows come in head-major blocks of
// headSize rows, one block per kept head in ascending order; the attention output dense takes the same blocks as
// columns. FFN neuron n is row n of intermediate.dense and column n of output.dense.
import { XlmtError } from '../../errors/index.ts';
import type { Parameter, ParamStore } from '../../ir/params.ts';
import { type EncoderConfig, encoderConfig, layerShape, layerShapes } from '../../models/config.ts';

const LAYER_PARAM = /^encoder\.layer\.(\d+)\.(.+)$/;

export interface CutModel {
  readonly config: EncoderConfig;
  readonly params: Map<string, Parameter>;
}

/**
 * Keeps the listed layers (indices of `config`'s layers, ascending, no repeats), renumbered 0…n−1; embeddings,
 * pooler and task heads unchanged. Pruned heads and per-layer FFN sizes follow their layers.
 */
export function keepLayers(config: EncoderConfig, params: ParamStore, keep: readonly number[]): CutModel {
  checkLayerList(config, keep);
  const renumber = new Map(keep.map((old, i) => [old, i]));
  const out = new Map<string, Parameter>();
  for (const p of params.values()) {
    const m = LAYER_PARAM.exec(p.name);
    if (!m) {
      out.set(p.name, p);
      continue;
    }
    const index = renumber.get(Number(m[1]));
    if (index === undefined) continue;
    const name = `encoder.layer.${index}.${m[2]}`;
    out.set(name, { ...p, name });
  }
  const shapes = layerShapes(config);
  const prunedHeads = Object.fromEntries(keep.flatMap((old, i) => {
    const removed = config.prunedHeads?.[old];
    return removed ? [[i, removed]] : [];
  }));
  const next = encoderConfig({
    ...withoutLayerFields(config),
    numHiddenLayers: keep.length,
    prunedHeads,
    intermediateSizes: keep.map((old) => (shapes[old] as { intermediateSize: number }).intermediateSize),
  });
  return { config: next, params: out };
}

/** What to cut from one layer: heads by their index before any pruning, FFN neurons by their current index. */
export interface LayerCut {
  readonly removeHeads?: readonly number[];
  readonly keepNeurons?: readonly number[];
}

/** Removes heads and FFN neurons layer by layer; layers absent from `cuts` are copied as they are. */
export function cutHeadsAndNeurons(config: EncoderConfig, params: ParamStore, cuts: Readonly<Record<number, LayerCut>>): CutModel {
  const out = new Map(params);
  const prunedHeads: Record<number, readonly number[]> = { ...config.prunedHeads };
  const sizes = layerShapes(config).map((s) => s.intermediateSize);
  for (const [key, cut] of Object.entries(cuts)) {
    const layer = Number(key);
    if (!Number.isInteger(layer) || layer < 0 || layer >= config.numHiddenLayers) {
      throw badCut(`cuts.${key}`, 'the encoder has no such layer', `a layer index in 0…${config.numHiddenLayers - 1}`, key);
    }
    const shape = layerShape(config, layer);
    const prefix = `encoder.layer.${layer}.`;
    const get = (name: string): Parameter => param(params, prefix + name);
    if (cut.removeHeads && cut.removeHeads.length > 0) {
      const removed = new Set(cut.removeHeads);
      for (const h of removed) {
        if (!shape.heads.includes(h)) throw badCut(`cuts.${key}.removeHeads`, `layer ${layer} has no head ${h} to remove`, `one of ${shape.heads.join(', ')}`, String(h));
      }
      const keptBlocks = shape.heads.flatMap((h, position) => (removed.has(h) ? [] : [position]));
      if (keptBlocks.length === 0) throw badCut(`cuts.${key}.removeHeads`, `layer ${layer} would keep no attention head`, `at most ${shape.heads.length - 1} heads removed`, `all ${shape.heads.length}`);
      const rows = blockIndices(keptBlocks, shape.headSize);
      for (const name of ['query', 'key', 'value']) {
        set(out, takeRows(get(`attention.self.${name}.weight`), rows));
        set(out, takeRows(get(`attention.self.${name}.bias`), rows));
      }
      set(out, takeColumns(get('attention.output.dense.weight'), rows));
      prunedHeads[layer] = [...(config.prunedHeads?.[layer] ?? []), ...removed];
    }
    if (cut.keepNeurons) {
      const keep = checkIndexList(cut.keepNeurons, shape.intermediateSize, `cuts.${key}.keepNeurons`, `layer ${layer}'s FFN neurons`);
      set(out, takeRows(get('intermediate.dense.weight'), keep));
      set(out, takeRows(get('intermediate.dense.bias'), keep));
      set(out, takeColumns(get('output.dense.weight'), keep));
      sizes[layer] = keep.length;
    }
  }
  const next = encoderConfig({ ...withoutLayerFields(config), prunedHeads, intermediateSizes: sizes });
  return { config: next, params: out };
}

function withoutLayerFields(config: EncoderConfig): EncoderConfig {
  const { prunedHeads: _heads, intermediateSizes: _sizes, ...rest } = config;
  return rest;
}

function checkLayerList(config: EncoderConfig, keep: readonly number[]): void {
  checkIndexList(keep, config.numHiddenLayers, 'keep', 'layers');
}

/** Ascending, unique, in range, not empty; returns the list. */
function checkIndexList(list: readonly number[], size: number, field: string, what: string): readonly number[] {
  if (list.length === 0) throw badCut(field, `no ${what} would be left`, 'at least one index', 'none');
  list.forEach((index, i) => {
    if (!Number.isInteger(index) || index < 0 || index >= size) throw badCut(field, `index out of range for ${what}`, `an integer in 0…${size - 1}`, String(index));
    if (i > 0 && index <= (list[i - 1] as number)) throw badCut(field, `indices of ${what} must be ascending and unique`, `an index above ${list[i - 1]}`, String(index));
  });
  return list;
}

function badCut(field: string, message: string, expected: string, received: string): XlmtError {
  return new XlmtError({ code: 'BAD_ARGUMENT', message, where: { api: 'prune', field }, expected, received });
}

function param(params: ParamStore, name: string): Parameter {
  const p = params.get(name);
  if (!p) throw new XlmtError({ code: 'KEY_MISMATCH', message: 'the model has no such parameter', where: { api: 'prune', tensor: name } });
  return p;
}

function set(store: Map<string, Parameter>, p: Parameter): void {
  store.set(p.name, p);
}

function blockIndices(blocks: readonly number[], size: number): number[] {
  return blocks.flatMap((b) => Array.from({ length: size }, (_, i) => b * size + i));
}

/** Rows `rows` of a matrix [out, in], or entries of a vector. */
export function takeRows(p: Parameter, rows: readonly number[]): Parameter {
  const width = p.shape.length === 2 ? (p.shape[1] as number) : 1;
  const data = new Float32Array(rows.length * width);
  rows.forEach((r, i) => data.set(p.data.subarray(r * width, (r + 1) * width), i * width));
  return { name: p.name, shape: p.shape.length === 2 ? [rows.length, width] : [rows.length], data };
}

/** Columns `columns` of a matrix [out, in]. */
export function takeColumns(p: Parameter, columns: readonly number[]): Parameter {
  const [out, width] = p.shape as [number, number];
  const data = new Float32Array(out * columns.length);
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < columns.length; c++) data[r * columns.length + c] = p.data[r * width + (columns[c] as number)] as number;
  }
  return { name: p.name, shape: [out, columns.length], data };
}

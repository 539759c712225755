// A narrower student whose every weight is a slice of its teacher's (`init-student --weights select`; Weight
// Selection, Xu et al., ICLR 2024): the teacher's layers picked by the layer map and cut to the student's heads and
// FFN neurons (student-copy.ts), then every hidden-size axis cut to the same evenly spaced coordinates. One set of
// coordinates for the whole residual stream (embeddings, every layer's outputs and LayerNorms, pooler and heads)
// keeps the student's hidden state a sub-vector of the teacher's, so each layer starts reading the coordinates it
// was trained to read; LayerNorm's mean and variance over a spread-out half of the coordinates are close to those
// over all of them. Which axis of a parameter is a hidden-size axis is told by its name, never guessed from its size
// (an FFN width or an attention width can equal the hidden size).
import type { Parameter, ParamStore } from '../../ir/params.ts';

/** `count` indices spread evenly over 0 … size − 1, starting at 0: 384 → 192 keeps 0, 2, 4, … */
export function evenlySpaced(size: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor((i * size) / count));
}

/** The hidden-size axes of a parameter, by its name; undefined for a name this rule does not know. */
export function hiddenAxes(name: string): readonly number[] | undefined {
  const rules: readonly (readonly [RegExp, readonly number[]])[] = [
    [/^embeddings\.(word|position|token_type)_embeddings\.weight$/, [1]],
    [/(^|\.)LayerNorm\.(weight|bias)$/, [0]],
    [/^encoder\.layer\.\d+\.attention\.self\.(query|key|value)\.weight$/, [1]],
    [/^encoder\.layer\.\d+\.attention\.self\.(query|key|value)\.bias$/, []],
    [/^encoder\.layer\.\d+\.(attention\.output|output)\.dense\.weight$/, [0]],
    [/^encoder\.layer\.\d+\.(attention\.output|output)\.dense\.bias$/, [0]],
    [/^encoder\.layer\.\d+\.intermediate\.dense\.weight$/, [1]],
    [/^encoder\.layer\.\d+\.intermediate\.dense\.bias$/, []],
    [/^(pooler|heads\.[^.]+)\.dense\.weight$/, [0, 1]],
    [/^(pooler|heads\.[^.]+)\.dense\.bias$/, [0]],
    [/^heads\.[^.]+\.(out_proj\.)?weight$/, [1]],
    [/^heads\.[^.]+\.(out_proj\.)?bias$/, []],
  ];
  return rules.find(([pattern]) => pattern.test(name))?.[1];
}

/**
 * Every parameter whose name hiddenAxes knows, with its hidden-size axes cut to `keep` (indices into the teacher's
 * hidden size `from`); the others are left out, for the caller to initialize. Works on any rank up to 2.
 */
export function selectHidden(params: ParamStore, from: number, keep: readonly number[]): Map<string, Parameter> {
  const out = new Map<string, Parameter>();
  for (const [name, p] of params) {
    const axes = hiddenAxes(name);
    if (axes === undefined || axes.some((a) => p.shape[a] !== from)) continue;
    const rows = p.shape.length === 2 ? (p.shape[0] as number) : 1;
    const cols = p.shape.length === 2 ? (p.shape[1] as number) : (p.shape[0] as number);
    const rowIndex = p.shape.length === 2 && axes.includes(0) ? keep : range(rows);
    const colIndex = axes.includes(p.shape.length - 1) ? keep : range(cols);
    const data = new Float32Array(rowIndex.length * colIndex.length);
    rowIndex.forEach((r, i) => colIndex.forEach((c, j) => (data[i * colIndex.length + j] = p.data[r * cols + c] as number)));
    const shape = p.shape.length === 2 ? [rowIndex.length, colIndex.length] : [colIndex.length];
    out.set(name, { name, shape, data });
  }
  return out;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

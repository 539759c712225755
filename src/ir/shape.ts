// Tensor shapes with symbolic dimensions ('batch', 'seq', or products such as 'batch*seq').

/** A dimension: a known size, or a symbol whose size is fixed only when the graph runs. */
export type Dim = number | string;
export type Shape = readonly Dim[];

export const isStatic = (shape: Shape): shape is readonly number[] => shape.every((d) => typeof d === 'number');

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Product of dimensions; symbolic factors stay symbolic, in a canonical order so equal products compare equal. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let known = 1;
  const symbols: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') known *= d;
    else symbols.push(...d.split('*'));
  }
  if (symbols.length === 0) return known;
  if (known === 0) return 0;
  symbols.sort();
  return known === 1 ? symbols.join('*') : `${known}*${symbols.join('*')}`;
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Resolve a possibly negative axis against a rank; undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

/**
 * Numpy-style broadcast of several shapes, or a description of the first conflict.
 * Two different symbols are taken to be equal: only the running graph can tell.
 */
export function broadcastShapes(shapes: readonly Shape[]): { shape: Shape } | { conflict: string } {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1 || d === dim) continue;
      if (dim === 1) { dim = d; continue; }
      if (typeof d === 'number' && typeof dim === 'number') {
        return { conflict: `dimension ${i} (from the right: ${rank - i}) is ${dim} in one input and ${d} in another` };
      }
      if (typeof dim === 'string' && typeof d === 'number') dim = d;
    }
    out.push(dim);
  }
  return { shape: out };
}

/** Axes (of the broadcast shape) that were summed over when `from` was broadcast up to `to`. */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) {
    if (i < lead) { axes.push(i); continue; }
    const f = from[i - lead];
    if (f === 1 && to[i] !== 1) axes.push(i);
  }
  return axes;
}

/** `total / by` for products of known sizes and symbols; undefined when it does not divide exactly. */
export function dimDivide(total: Dim, by: Dim): Dim | undefined {
  const split = (d: Dim): { k: number; syms: string[] } => {
    if (typeof d === 'number') return { k: d, syms: [] };
    const parts = d.split('*');
    const k = parts.filter((p) => /^\d+$/.test(p)).reduce((a, p) => a * Number(p), 1);
    return { k, syms: parts.filter((p) => !/^\d+$/.test(p)) };
  };
  const t = split(total);
  const b = split(by);
  if (b.k === 0 || t.k % b.k !== 0) return undefined;
  const syms = [...t.syms];
  for (const s of b.syms) {
    const at = syms.indexOf(s);
    if (at < 0) return undefined;
    syms.splice(at, 1);
  }
  return dimProduct([t.k / b.k, ...syms]);
}

/** Concrete sizes for a shape, given a size for each symbol ('batch*seq' multiplies its factors). */
export function resolveShape(shape: Shape, sizes: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    return d.split('*').reduce((product, factor) => {
      const size = /^\d+$/.test(factor) ? Number(factor) : sizes[factor];
      if (size === undefined) throw new Error(`no size given for dimension ${factor} (of ${formatShape(shape)})`);
      return product * size;
    }, 1);
  });
}

/**
 * Sizes of the plain symbols in `shapes` (such as 'batch', 'seq'), read off concrete shapes of the same rank;
 * throws when one symbol meets two sizes.
 */
export function bindSymbols(pairs: readonly { readonly shape: Shape; readonly concrete: readonly number[]; readonly name: string }[]): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const { shape, concrete, name } of pairs) {
    shape.forEach((d, i) => {
      if (typeof d !== 'string' || d.includes('*')) return;
      const size = concrete[i];
      if (size === undefined) return;
      const seen = sizes[d];
      if (seen !== undefined && seen !== size) throw new Error(`input ${name}: dimension ${d} is ${size} here but ${seen} in another input`);
      sizes[d] = size;
    });
  }
  return sizes;
}

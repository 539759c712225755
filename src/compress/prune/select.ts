// Which heads and neurons to keep, from importance scores: tasks made comparable, budgets per round, and a global
// ranking (uneven layers, the default) or an even one per layer.
//
// Multi-task: each task's scores are normalized per layer to unit L2 norm (Michel et al. 2019 normalize per
// layer; here it also puts every task on the same scale) and averaged over tasks, so a task with few examples
// or a small loss counts as much as a large one, and the units it needs survive.
import type { UnitScores } from './importance.ts';

/** Per layer, each layer's scores divided by their L2 norm (an all-zero layer stays zero). */
export function normalizePerLayer(layers: readonly Float64Array[]): Float64Array[] {
  return layers.map((scores) => {
    const norm = Math.sqrt(scores.reduce((s, x) => s + x * x, 0));
    return norm > 0 ? scores.map((x) => x / norm) : scores.slice();
  });
}

/** The mean over tasks of their per-layer-normalized scores. */
export function combineTasks(perTask: ReadonlyMap<string, UnitScores>): UnitScores {
  const normalized = [...perTask.values()].map((s) => ({ heads: normalizePerLayer(s.heads), neurons: normalizePerLayer(s.neurons) }));
  const mean = (pick: (s: UnitScores) => readonly Float64Array[]): Float64Array[] =>
    (pick(normalized[0] as UnitScores)).map((_, layer) => {
      const out = new Float64Array((pick(normalized[0] as UnitScores)[layer] as Float64Array).length);
      for (const s of normalized) (pick(s)[layer] as Float64Array).forEach((x, u) => { out[u] = (out[u] as number) + x / normalized.length; });
      return out;
    });
  return { heads: mean((s) => s.heads), neurons: mean((s) => s.neurons) };
}

/** How many units to keep: a total over layers ranked globally, or a count per layer. */
export type Budget = { readonly kind: 'global'; readonly total: number } | { readonly kind: 'per-layer'; readonly counts: readonly number[] };

/**
 * The budget of round `round` (1…rounds), going linearly from the `initial` unit counts per layer to `target`:
 * round `rounds` reaches the target. Per layer when the target is per layer.
 */
export function roundBudget(initial: readonly number[], target: Budget, round: number, rounds: number): Budget {
  const step = (from: number, to: number): number => Math.round(from - ((from - to) * round) / rounds);
  if (target.kind === 'global') return { kind: 'global', total: step(initial.reduce((a, b) => a + b, 0), target.total) };
  return { kind: 'per-layer', counts: target.counts.map((to, i) => step(initial[i] as number, to)) };
}

/**
 * Keeps the best-scored living units within the budget: globally (every layer keeps at least its best unit, the
 * rest go by score across layers) or per layer. Pruned units (mask 0) stay pruned. Ties go to the lower index.
 */
export function selectUnits(scores: readonly Float64Array[], masks: readonly Float32Array[], budget: Budget): Float32Array[] {
  const living = masks.map((m) => [...m.keys()].filter((u) => (m[u] as number) > 0));
  const byScore = (layer: number) => (a: number, b: number): number => ((scores[layer] as Float64Array)[b] as number) - ((scores[layer] as Float64Array)[a] as number) || a - b;
  const ranked = living.map((units, layer) => [...units].sort(byScore(layer)));
  const keep = masks.map((m) => new Float32Array(m.length));
  if (budget.kind === 'per-layer') {
    ranked.forEach((units, layer) => {
      for (const u of units.slice(0, Math.max(1, budget.counts[layer] as number))) (keep[layer] as Float32Array)[u] = 1;
    });
    return keep;
  }
  let left = budget.total;
  const rest: { layer: number; unit: number; score: number }[] = [];
  ranked.forEach((units, layer) => {
    const [best, ...others] = units;
    if (best !== undefined) {
      (keep[layer] as Float32Array)[best] = 1;
      left--;
    }
    for (const u of others) rest.push({ layer, unit: u, score: (scores[layer] as Float64Array)[u] as number });
  });
  rest.sort((a, b) => b.score - a.score || a.layer - b.layer || a.unit - b.unit);
  for (const r of rest.slice(0, Math.max(0, left))) (keep[r.layer] as Float32Array)[r.unit] = 1;
  return keep;
}

/** The share of a task's (per-layer-normalized) importance that the kept units hold, heads and neurons apart. */
export function survivingShare(scores: UnitScores, kept: { readonly heads: readonly Float32Array[]; readonly neurons: readonly Float32Array[] }): { heads: number; neurons: number } {
  const share = (layers: readonly Float64Array[], masks: readonly Float32Array[]): number => {
    let total = 0;
    let held = 0;
    normalizePerLayer(layers).forEach((s, layer) => s.forEach((x, u) => {
      total += x;
      if (((masks[layer] as Float32Array)[u] as number) > 0) held += x;
    }));
    return total > 0 ? held / total : 1;
  };
  return { heads: share(scores.heads, kept.heads), neurons: share(scores.neurons, kept.neurons) };
}

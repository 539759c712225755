// Seeded pseudo-random numbers (mulberry32): the same seed gives the same weights, batches and masks everywhere.

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** 32 random bits as an unsigned integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The generator's state, to resume the same sequence later. */
  get seedState(): number {
    return this.state;
  }
}

/** A 32-bit seed mixed from several integers (a stream per seed, step and site). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
  }
  return h >>> 0;
}

/**
 * Fill `out` with `keep` (probability 1 − dropRatio) or 0, from the mulberry32 stream of `seed`.
 * NOTE: inlined and branch-free, two 16-bit draws per call: masks for a MiniLM training step are ~45M values,
 * and a method call plus a data-dependent branch per value was 3× slower.
 */
export function fillKeepMask(out: Float32Array, dropRatio: number, keep: number, seed: number): void {
  const threshold = Math.round(dropRatio * 65536);
  let state = seed | 0;
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    // (x − threshold) >>> 31 is 1 exactly when x < threshold: the unit is dropped.
    out[i] = keep * (1 - (((t & 0xffff) - threshold) >>> 31));
    if (i + 1 < n) out[i + 1] = keep * (1 - (((t >>> 16) - threshold) >>> 31));
  }
}

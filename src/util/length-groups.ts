// Batches of similar length, still random: an order is cut into windows of `window` batches, each window is
// sorted by length and split into batches, and the batches are shuffled within their window. Padding per
// batch falls (a batch pads to its longest text), while which texts meet in a batch stays a matter of chance.
import type { Random } from './random.ts';

/**
 * Regroups `order` (example indices) in place of a copy. A short last block of a window stays last, so every
 * batch but the final one of the order is full.
 */
export function groupByLength(order: ArrayLike<number>, lengths: ArrayLike<number>, batchSize: number, window: number, random: Random): number[] {
  const items = Array.from(order);
  if (window <= 1) return items;
  const span = window * batchSize;
  const grouped: number[] = [];
  for (let start = 0; start < items.length; start += span) {
    const chunk = items.slice(start, start + span).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
    const blocks: number[][] = [];
    for (let b = 0; b < chunk.length; b += batchSize) blocks.push(chunk.slice(b, b + batchSize));
    const full = blocks.length > 0 && (blocks[blocks.length - 1] as number[]).length < batchSize ? blocks.length - 1 : blocks.length;
    for (let i = full - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [blocks[i], blocks[j]] = [blocks[j] as number[], blocks[i] as number[]];
    }
    for (const block of blocks) grouped.push(...block);
  }
  return grouped;
}

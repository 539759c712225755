// The measured half of `xlmt cost`: `xlmt serve` under `xlmt bench load` at a few concurrency levels, each level a
// fresh server (bench/load.ts), giving the texts/s and p99 latency the cost model (plan.ts) chooses from.
import { benchLoad, type LoadBenchResult } from '../bench/load.ts';
import type { LoadLevel } from './plan.ts';

export interface MeasureOptions {
  readonly model: string;
  readonly data: string;
  /** Concurrent clients of each level. */
  readonly connections: readonly number[];
  /** Seconds measured at each level, after `warmup` seconds unmeasured. */
  readonly duration: number;
  readonly warmup: number;
  readonly threads: number;
}

export interface MeasuredLevel extends LoadLevel {
  readonly result: LoadBenchResult;
}

export async function measureLevels(o: MeasureOptions, log: (line: string) => void): Promise<MeasuredLevel[]> {
  const levels: MeasuredLevel[] = [];
  for (const connections of o.connections) {
    const result = await benchLoad({ model: o.model, data: o.data, connections, duration: o.duration, warmup: o.warmup, textsPerRequest: 1, threads: o.threads }, log);
    log(`${o.model}: ${connections} connections: ${result.textsPerSec.toFixed(1)} texts/s, p99 ${result.latencyMs.p99} ms, ${result.errors.total} errors`);
    levels.push({ connections, textsPerSec: result.errors.total > 0 ? 0 : result.textsPerSec, p99Ms: result.latencyMs.p99, result });
  }
  return levels;
}

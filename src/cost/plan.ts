// The cost model of `xlmt cost`: from a model's serving throughput and tail latency measured on this machine, the
// instances a load needs and what they cost a month. Pure arithmetic over stated assumptions, so every figure can
// be recomputed by hand from the printed inputs:
//
//   capacity      the highest texts/s among the measured concurrency levels whose p99 latency is within the target
//   servers       ⌊instance cores / server threads⌋ servers per instance, each as fast as the one measured here
//   per instance  capacity × servers
//   instances     ⌈load / per instance⌉
//   monthly cost  instances × cost per hour × hours per month (730: 8,760 / 12)
import { XlmtError } from '../errors/index.ts';

/** One measured load level: `xlmt bench load` at a number of concurrent clients. */
export interface LoadLevel {
  readonly connections: number;
  readonly textsPerSec: number;
  readonly p99Ms: number;
}

export interface CostAssumptions {
  /** The load to serve, texts per second at peak. */
  readonly textsPerSec: number;
  /** The latency target: p99 per request, milliseconds. */
  readonly p99Ms: number;
  /** Cores of one instance. */
  readonly instanceCores: number;
  /** Price of one instance an hour, in the currency given. */
  readonly costPerHour: number;
  /** ONNX Runtime threads of each server, as measured. */
  readonly serverThreads: number;
  readonly hoursPerMonth?: number;
}

export const HOURS_PER_MONTH = 730;

export interface CostPlan {
  /** The level whose throughput counts (highest texts/s within the p99 target); null when none meets it. */
  readonly level: LoadLevel | null;
  readonly serversPerInstance: number;
  readonly perInstanceTextsPerSec: number;
  /** null when no measured level meets the latency target: no number of instances would. */
  readonly instances: number | null;
  readonly monthlyCost: number | null;
}

function positive(field: string, value: number, integer = false): void {
  if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field }, message: `not a ${integer ? 'whole number' : 'number'} above 0`, received: String(value) });
  }
}

export function costPlan(levels: readonly LoadLevel[], a: CostAssumptions): CostPlan {
  positive('--qps', a.textsPerSec);
  positive('--p99-ms', a.p99Ms);
  positive('--instance-cores', a.instanceCores, true);
  positive('--threads', a.serverThreads, true);
  if (!(Number.isFinite(a.costPerHour) && a.costPerHour >= 0)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--instance-cost-per-hour' }, message: 'not a price', expected: 'a number ≥ 0', received: String(a.costPerHour) });
  }
  const serversPerInstance = Math.floor(a.instanceCores / a.serverThreads);
  if (serversPerInstance < 1) {
    throw new XlmtError({
      code: 'BAD_OPTION', where: { field: '--instance-cores' },
      message: `an instance of ${a.instanceCores} cores cannot hold one server of ${a.serverThreads} threads as measured`,
      hint: 'measure with --threads at most the instance\'s cores',
    });
  }
  const within = levels.filter((l) => l.p99Ms <= a.p99Ms);
  const level = within.reduce<LoadLevel | null>((best, l) => (best === null || l.textsPerSec > best.textsPerSec ? l : best), null);
  if (level === null) return { level: null, serversPerInstance, perInstanceTextsPerSec: 0, instances: null, monthlyCost: null };
  const perInstanceTextsPerSec = level.textsPerSec * serversPerInstance;
  const instances = Math.ceil(a.textsPerSec / perInstanceTextsPerSec);
  return { level, serversPerInstance, perInstanceTextsPerSec, instances, monthlyCost: instances * a.costPerHour * (a.hoursPerMonth ?? HOURS_PER_MONTH) };
}

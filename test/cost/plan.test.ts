// The cost model's arithmetic against hand-computed cases, and its refusals; `xlmt cost` on a tiny export.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CostAssumptions, costPlan, type LoadLevel } from '../../src/cost/plan.ts';
import { exportModel } from '../../src/export/export.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, trainedRun } from '../train/fixtures.ts';

const LEVELS: LoadLevel[] = [
  { connections: 1, textsPerSec: 40, p99Ms: 30 },
  { connections: 4, textsPerSec: 110, p99Ms: 60 },
  { connections: 16, textsPerSec: 150, p99Ms: 180 },
];
const BASE: CostAssumptions = { textsPerSec: 1000, p99Ms: 100, instanceCores: 8, costPerHour: 0.5, serverThreads: 2 };

describe('costPlan', () => {
  it('takes the fastest level within the latency target, and counts instances and the month by hand', () => {
    // 4 clients: 110 texts/s within 100 ms; 8 cores / 2 threads = 4 servers: 440 texts/s an instance;
    // ⌈1000 / 440⌉ = 3 instances; 3 × 0.5 × 730 = 1,095 a month.
    expect(costPlan(LEVELS, BASE)).toEqual({ level: LEVELS[1], serversPerInstance: 4, perInstanceTextsPerSec: 440, instances: 3, monthlyCost: 1095 });
    // A looser target admits the 16-client level: 150 × 4 = 600 an instance, ⌈1000 / 600⌉ = 2, 730 a month.
    expect(costPlan(LEVELS, { ...BASE, p99Ms: 200 })).toMatchObject({ perInstanceTextsPerSec: 600, instances: 2, monthlyCost: 730 });
    // An odd core count leaves a core idle: ⌊5 / 2⌋ = 2 servers, 220 texts/s, ⌈1000 / 220⌉ = 5 instances.
    expect(costPlan(LEVELS, { ...BASE, instanceCores: 5 })).toMatchObject({ serversPerInstance: 2, instances: 5, monthlyCost: 5 * 0.5 * 730 });
  });

  it('says no instance count meets a target no level meets, and refuses impossible assumptions', () => {
    expect(costPlan(LEVELS, { ...BASE, p99Ms: 20 })).toEqual({ level: null, serversPerInstance: 4, perInstanceTextsPerSec: 0, instances: null, monthlyCost: null });
    expect(() => costPlan(LEVELS, { ...BASE, instanceCores: 1 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--instance-cores' } }) as Error);
    expect(() => costPlan(LEVELS, { ...BASE, textsPerSec: 0 })).toThrow(expect.objectContaining({ where: { field: '--qps' } }) as Error);
    expect(() => costPlan(LEVELS, { ...BASE, costPerHour: -1 })).toThrow(expect.objectContaining({ where: { field: '--instance-cost-per-hour' } }) as Error);
  });
});

describe('xlmt cost', () => {
  let exported: string;
  beforeAll(async () => {
    const data = await runFixture(40, 12);
    const run = await trainedRun(data);
    exported = join(data.dir, 'export');
    await exportModel(run, exported, { quantization: 'none', checkSample: 8, threads: 1 });
  }, 60_000);

  it('measures a model, prints the plan with its assumptions, and refuses a missing price before measuring', () => {
    const refused = runXlmt(['cost', '--model', exported]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--instance-cost-per-hour');
    const run = runXlmt(['cost', '--model', exported, '--baseline', exported, '--qps', '50', '--p99-ms', '2000', '--instance-cores', '2', '--instance-cost-per-hour', '0.1',
      '--threads', '1', '--connections', '1', '--duration', '1', '--warmup', '0']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('assumptions: 50 texts/s at peak');
    expect(run.stdout).toMatch(/instances for 50 texts\/s: \d+; [\d,.]+ a month at 0.1 an hour/);
    expect(run.stdout).toMatch(/saving against .*: -?[\d,.]+ a month/);
  }, 60_000);
});

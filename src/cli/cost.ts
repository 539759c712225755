// `xlmt cost`: what serving a model costs a month at a given load and latency target, from its throughput measured
// here under `xlmt bench load` (src/cost/), against a baseline model when one is given. The assumptions are printed
// beside the figures.
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { type MeasuredLevel, measureLevels } from '../cost/measure.ts';
import { type CostAssumptions, type CostPlan, costPlan, HOURS_PER_MONTH } from '../cost/plan.ts';
import { XlmtError } from '../errors/index.ts';
import { nonNegativeInt, number, positiveInt } from './options.ts';

const DEMO_DEV = fileURLToPath(new URL('../../data/demo/dev.jsonl', import.meta.url));

interface CostFlags {
  model: string;
  baseline?: string;
  qps: number;
  p99Ms: number;
  instanceCores: number;
  instanceCostPerHour?: number;
  threads: number;
  connections: number[];
  duration: number;
  warmup: number;
  data: string;
  json: boolean;
}

function connectionList(value: string): number[] {
  const levels = value.split(',').map((v) => Number(v.trim()));
  if (levels.length === 0 || levels.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--connections' }, message: 'not a list of client counts', expected: 'positive integers separated by commas, e.g. 1,4,16', received: value });
  }
  return levels;
}

interface Costed {
  readonly model: string;
  readonly levels: readonly MeasuredLevel[];
  readonly plan: CostPlan;
}

const money = (x: number): string => x.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function costText(c: Costed, a: CostAssumptions): string[] {
  const lines = [`## ${c.model}`, '', '| clients | texts/s | p99 ms | within target |', '|---:|---:|---:|---|'];
  for (const l of c.levels) lines.push(`| ${l.connections} | ${l.textsPerSec.toFixed(1)} | ${l.p99Ms} | ${l.p99Ms <= a.p99Ms ? 'yes' : 'no'} |`);
  const p = c.plan;
  if (p.level === null || p.instances === null || p.monthlyCost === null) {
    lines.push('', `no measured level keeps p99 within ${a.p99Ms} ms: no number of such instances meets the target`);
    return lines;
  }
  lines.push(
    '',
    `capacity: ${p.level.textsPerSec.toFixed(1)} texts/s per server (${p.level.connections} clients, p99 ${p.level.p99Ms} ms); ` +
      `${p.serversPerInstance} server${p.serversPerInstance > 1 ? 's' : ''} per ${a.instanceCores}-core instance: ${p.perInstanceTextsPerSec.toFixed(1)} texts/s`,
    `instances for ${a.textsPerSec} texts/s: ${p.instances}; ${money(p.monthlyCost)} a month at ${a.costPerHour} an hour`,
  );
  return lines;
}

export function costCommand(): Command {
  return new Command('cost')
    .description('what serving a model costs a month for a load and a p99 latency target, from its throughput measured here under xlmt bench load; against a baseline model when given')
    .requiredOption('--model <dir>', 'export directory to cost')
    .option('--baseline <dir>', 'export directory to compare with (the model it replaces)')
    .option('--qps <n>', 'load to serve: texts per second at peak (one text a request)', number('--qps'), 100)
    .option('--p99-ms <ms>', 'latency target: p99 per request, milliseconds', number('--p99-ms'), 100)
    .option('--instance-cores <n>', 'cores of one instance', positiveInt('--instance-cores'), 4)
    .option('--instance-cost-per-hour <x>', 'price of one instance an hour (required: no price is assumed)', number('--instance-cost-per-hour'))
    .option('--threads <n>', 'ONNX Runtime threads of each server, measured as given', positiveInt('--threads'), 2)
    .option('--connections <list>', 'concurrency levels measured, comma-separated', connectionList, [1, 4, 16])
    .option('--duration <s>', 'seconds measured at each level', positiveInt('--duration'), 10)
    .option('--warmup <s>', 'seconds of unmeasured load before each level', nonNegativeInt('--warmup'), 5)
    .option('--data <file>', 'JSONL whose "text" fields are sent (the demo dev set: 920 texts, 15 languages)', DEMO_DEV)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: CostFlags) => {
      if (flags.instanceCostPerHour === undefined) {
        throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--instance-cost-per-hour' }, message: 'no instance price given', hint: 'give your provider\'s hourly price for an instance of --instance-cores cores' });
      }
      const assumptions: CostAssumptions = {
        textsPerSec: flags.qps, p99Ms: flags.p99Ms, instanceCores: flags.instanceCores, costPerHour: flags.instanceCostPerHour, serverThreads: flags.threads,
      };
      costPlan([], assumptions); // refuses bad assumptions before minutes of measuring
      const log = (line: string): void => void process.stderr.write(`${line}\n`);
      const measure = async (model: string): Promise<Costed> => {
        const levels = await measureLevels({ model, data: flags.data, connections: flags.connections, duration: flags.duration, warmup: flags.warmup, threads: flags.threads }, log);
        return { model, levels, plan: costPlan(levels, assumptions) };
      };
      const costed = [await measure(flags.model), ...(flags.baseline ? [await measure(flags.baseline)] : [])];
      const [model, baseline] = costed;
      const saving = model?.plan.monthlyCost != null && baseline?.plan.monthlyCost != null ? baseline.plan.monthlyCost - model.plan.monthlyCost : null;
      if (flags.json) {
        console.log(JSON.stringify({ assumptions: { ...assumptions, hoursPerMonth: HOURS_PER_MONTH }, models: costed.map((c) => ({ model: c.model, plan: c.plan, levels: c.levels.map(({ result, ...l }) => ({ ...l, result })) })), saving }, null, 2));
        return;
      }
      const lines = [
        `assumptions: ${flags.qps} texts/s at peak, one text a request; p99 within ${flags.p99Ms} ms; instances of ${flags.instanceCores} cores at ${flags.instanceCostPerHour} an hour, ${HOURS_PER_MONTH} hours a month; ` +
          `each server ${flags.threads} ONNX Runtime threads and as fast as measured on this machine (${flags.duration} s a level after ${flags.warmup} s of warm-up, the load client on the same machine)`,
        '',
      ];
      for (const c of costed) lines.push(...costText(c, assumptions), '');
      if (baseline && model) {
        lines.push(saving === null
          ? 'saving: not computed (a model meets no measured level within the target)'
          : `saving against ${baseline.model}: ${money(saving)} a month${baseline.plan.monthlyCost ? ` (${((100 * saving) / baseline.plan.monthlyCost).toFixed(1)}%)` : ''}, ${baseline.plan.instances} → ${model.plan.instances} instances`);
      }
      console.log(lines.join('\n'));
    });
}

// Summarizes an ONNX Runtime profile (chrome-trace JSON) into time per op type.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface OpTypeTime {
  readonly opType: string;
  readonly ms: number;
  readonly share: number;
  readonly calls: number;
}

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string };
}

/** Kernel time per op type, largest first, over all runs in the profile. */
export function timeByOpType(profileFile: string, runs: number): OpTypeTime[] {
  const events = JSON.parse(readFileSync(profileFile, 'utf8')) as TraceEvent[];
  const totals = new Map<string, { us: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const entry = totals.get(e.args.op_name) ?? { us: 0, calls: 0 };
    entry.us += e.dur ?? 0;
    entry.calls += 1;
    totals.set(e.args.op_name, entry);
  }
  const all = [...totals.values()].reduce((a, t) => a + t.us, 0);
  return [...totals.entries()]
    .map(([opType, t]) => ({ opType, ms: t.us / 1000 / runs, share: t.us / all, calls: t.calls / runs }))
    .sort((a, b) => b.ms - a.ms);
}

/** Read and delete the profile ONNX Runtime wrote as `<prefix>_<date>.json`: kernel time per op type per run. */
export function takeProfile(prefix: string, runs: number): OpTypeTime[] | undefined {
  const name = readdirSync(dirname(prefix)).find((f) => f.startsWith(`${basename(prefix)}_`) && f.endsWith('.json'));
  if (!name) return undefined;
  const file = join(dirname(prefix), name);
  const times = timeByOpType(file, runs);
  rmSync(file);
  return times;
}

// The service started the way the README says to run it in production, signalled the way a supervisor does:
// SIGHUP reloads, SIGTERM under load from 48 keep-alive clients answers every request sent (none reset) and
// exits 0, and a SIGTERM during start-up exits 0 with a line saying so. The command is read from the README, so
// the documentation cannot drift to a launcher (such as npx) that keeps signals from the server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportedModel, type ExportedFixture } from '../infer/exported-model.ts';
import { keepAliveLoad } from './load.ts';
import { freePort } from '../../src/bench/load.ts';

const root = join(import.meta.dirname, '../..');
const README_MODEL = 'runs/demo/export';

/** The README's production launch line, as argv: `node bin/xlmt.js serve runs/demo/export`. */
function readmeCommand(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = /^node \S*xlmt\S* serve .*$/m.exec(readme)?.[0];
  if (line === undefined) throw new Error('README.md shows no `node … serve` line to run the service with');
  return (line.split('#')[0] ?? '').trim().split(/\s+/);
}

let fx: ExportedFixture;
let scratch: string;
let command: string[];
beforeAll(async () => {
  command = readmeCommand();
  fx = await exportedModel();
  // bin/xlmt.js runs dist/, which may be older than src/: compile the sources beside a copy of bin/ in a scratch
  // checkout (under node_modules/, so the dependencies resolve) and run the README's command there. Type errors
  // elsewhere in the tree do not stop tsc from emitting.
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  scratch = mkdtempSync(join(root, 'node_modules/.cache/xlmt-launch-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(scratch, 'dist')], { stdio: 'ignore' });
  } catch {
    // emitted anyway; a missing dist/cli/main.js fails the tests below with bin/xlmt.js's own message
  }
  mkdirSync(join(scratch, 'bin'));
  copyFileSync(join(root, 'bin/xlmt.js'), join(scratch, 'bin/xlmt.js'));
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Launched {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function launch(): Promise<Launched> {
  const port = await freePort();
  const [node, ...args] = command;
  expect(node).toBe('node');
  const argv = [...args.map((a) => (a === README_MODEL ? fx.dir : a)), '--port', String(port), '--threads', '1'];
  const child = spawn(process.execPath, argv, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XLMT_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, stdout: () => stdout, stderr: () => stderr, exit };
}

/** The messages of the server's JSON log lines. */
const messages = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);

async function ready(server: Launched): Promise<void> {
  await expect.poll(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${server.port}/readyz`)).status;
    } catch {
      return 0;
    }
  }, { timeout: 60_000, interval: 100 }).toBe(200);
}

describe('the README\'s launch command', () => {
  it('is node itself running bin/xlmt.js, so signals reach the server', () => {
    expect(command.slice(0, 3)).toEqual(['node', 'bin/xlmt.js', 'serve']);
  });

  it('reloads on SIGHUP, then drains 48 keep-alive clients on SIGTERM without a reset and exits 0', async () => {
    const server = await launch();
    try {
      await ready(server);
      server.child.kill('SIGHUP');
      await expect.poll(async () => (await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).includes('xlmt_model_reloads_total{outcome="ok"} 1'), {
        timeout: 30_000, interval: 100,
      }).toBe(true);

      // Requests of a few texts keep the server's event loop busy (tokenizing, answering), as under real load.
      const load = keepAliveLoad(server.port, 48, Array.from({ length: 4 }, (_, i) => `${i}: I love this movie! Le gouvernement a voté la loi. `.repeat(2)));
      // Every client busy first (see the same test in lifecycle.test.ts: a connection still in the accept queue is
      // reset by the operating system when the server stops listening).
      await expect.poll(() => load.report.busyClients, { timeout: 30_000 }).toBe(48);
      await expect.poll(() => load.report.answers.length, { timeout: 30_000 }).toBeGreaterThan(300);
      server.child.kill('SIGTERM');
      const report = await load.done;
      const exit = await server.exit;
      // Every request a client sent was answered: 200, or SHUTTING_DOWN once the drain began; none was reset.
      expect(report.lost).toEqual([]);
      expect(report.answers).toHaveLength(report.sent);
      expect(new Set(report.answers.map((a) => (a.status === 200 ? 200 : JSON.stringify(a.body))))).toEqual(
        new Set([200, ...(report.answers.some((a) => a.status !== 200) ? [JSON.stringify({ error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down; send the request to another instance' } })] : [])]),
      );
      expect(report.refused).toBe(48);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(messages(server.stdout())).toEqual(expect.arrayContaining(['model reloaded', 'shutting down: draining the queue', 'stopped']));
      console.info(`launch drain: ${report.sent} requests sent, ${report.answers.filter((a) => a.status === 200).length} answered 200, `
        + `${report.answers.filter((a) => a.status === 503).length} SHUTTING_DOWN, ${report.lost.length} reset, ${report.refused} connections refused after the stop`);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('exits 0 with a line on a SIGTERM as soon as it listens, before or while the model loads', async () => {
    const server = await launch();
    try {
      await expect.poll(() => messages(server.stdout()).some((m) => m.startsWith('Server listening')), { timeout: 60_000, interval: 10 }).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exit).toEqual({ code: 0, signal: null });
      expect(messages(server.stdout()).some((m) => m.startsWith('shutting down'))).toBe(true);
      expect(messages(server.stdout())).toContain('stopped');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it.skipIf(process.platform !== 'linux')('exits 0 with a line on a SIGTERM while its modules still load', async () => {
    const server = await launch();
    try {
      // bin/xlmt.js's first lines listen for SIGTERM, SIGINT and SIGHUP; the CLI's imports then take several
      // hundred ms of CPU. Node itself catches SIGTERM and SIGINT from its start, but not SIGHUP: the moment the
      // kernel shows SIGHUP caught, the early listeners are in place and the imports have only begun. (A CPU-time
      // threshold was not enough: on a loaded machine Node's own start-up can take longer than any fixed one.)
      await expect.poll(() => catchesSignal(server.child.pid as number, 1), { timeout: 30_000, interval: 2 }).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exit).toEqual({ code: 0, signal: null });
      expect(server.stderr()).toContain('xlmt serve: SIGTERM while starting: stopped before serving');
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});

/** Whether a Linux process has a handler for a signal, from /proc/PID/status's SigCgt mask (false once it is gone). */
function catchesSignal(pid: number, signal: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
  } catch {
    return false;
  }
}


// Runs the xlmt command line from source, as a user would, and returns how it ended.
import { execFileSync } from 'node:child_process';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runXlmt(args: readonly string[]): CliResult {
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: 'pipe', encoding: 'utf8' });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const { status, stdout, stderr } = e as { status: number; stdout: string; stderr: string };
    return { status, stdout, stderr };
  }
}

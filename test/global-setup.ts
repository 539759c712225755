// The test run's temporary directory: every worker and child process gets TMPDIR set to a fresh folder that is
// removed when the run ends. ONNX Runtime's library writes a trace file (mat-debug-<pid>.log) into it from every
// process that makes a session, and test workers are ended without the exit hook that removes it (runtime/ort.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-test-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}

// ONNX Runtime for the rest of runtime/, with one side effect of its library undone: ONNX Runtime's Linux
// build writes an empty telemetry trace file, `mat-debug-<pid>.log`, into the temporary directory ($TMPDIR or
// /tmp) of every process that creates a session, and exposes no setting to stop it. This process removes its own
// file when it exits, and only while the file is empty; a process killed with SIGKILL still leaves it behind.
import { statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const traceFile = join(tmpdir(), `mat-debug-${process.pid}.log`);

process.once('exit', () => {
  try {
    if (statSync(traceFile).size === 0) unlinkSync(traceFile);
  } catch {
    // Not created (no session was made) or already gone.
  }
});

export default ort;

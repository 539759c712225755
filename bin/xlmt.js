#!/usr/bin/env node
// Entry point of the `xlmt` command: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `xlmt serve` is stopped and reloaded by signals. One arriving while the CLI's modules load (about half a
// second, before the server can act on it) must not kill it silently with 143: it stops with a line and 0, as
// a SIGTERM during the model load does. Once the server listens for a signal itself, it alone handles it.
if (process.argv[2] === 'serve') {
  const early = (signal) => {
    if (process.listenerCount(signal) > 1) return;
    if (signal === 'SIGHUP') {
      process.stderr.write('xlmt serve: SIGHUP while starting: the model is read from disk as it loads; nothing to reload\n');
      return;
    }
    process.stderr.write(`xlmt serve: ${signal} while starting: stopped before serving\n`);
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, early);
}

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('xlmt: dist/ is missing; run `npm ci` (or `npm run build`) in the xlmt checkout first.');
  process.exit(1);
}
await import(compiled.href);

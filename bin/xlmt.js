#!/usr/bin/env node
// Entry point of the `xlmt` command: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('xlmt: dist/ is missing; run `npm ci` (or `npm run build`) in the xlmt checkout first.');
  process.exit(1);
}
await import(compiled.href);

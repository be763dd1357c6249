#!/usr/bin/env node
// The `crs` command. Runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error('crs: dist/ is missing; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}
await import(compiled.href);

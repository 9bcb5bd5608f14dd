#!/usr/bin/env node
// Runs the compiled service (dist/, built by `npm run build`; `npm install` in a checkout builds it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`sstpwatch: ${main.pathname} is missing: run "npm run build" in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(1);
}
await import(main.href);

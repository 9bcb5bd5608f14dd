#!/usr/bin/env node
// Runs the compiled service (dist/, built by `npm run build`; `npm install` in a checkout builds it).
import { existsSync } from 'node:fs';

// A reload signal that comes while the service is still loading must not end it (SIGHUP's default action):
// the config it is about to read is the current one anyway. The service installs its own handler once running.
process.on('SIGHUP', () => {});

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`sstpwatch: ${main.pathname} is missing: run "npm run build" in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(1);
}
await import(main.href);

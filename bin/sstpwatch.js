#!/usr/bin/env node
// Runs the compiled service (dist/, built by `npm run build`; `npm install` in a checkout builds it).
import { existsSync } from 'node:fs';
import v8 from 'node:v8';

// V8 lets the old generation grow to up to 4 times what survived its last full collection before collecting again,
// and every interval replaces each target's last result: at 10,000 targets that headroom was most of the resident
// memory (docs/capacity.md, "Memory"). A full collection once the old generation has grown by 20% keeps the peak
// near what is live, for about 1% more CPU. Set at run time so every start path (systemd, the container, Windows,
// npm start) gets it; `node --heap-growing-percent=N bin/sstpwatch.js` chooses another value.
if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) v8.setFlagsFromString('--heap-growing-percent=20');

// A reload signal that comes while the service is still loading must not end it (SIGHUP's default action):
// the config it is about to read is the current one anyway. The service installs its own handler once running.
process.on('SIGHUP', () => {});

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`sstpwatch: ${main.pathname} is missing: run "npm run build" in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(1);
}
await import(main.href);

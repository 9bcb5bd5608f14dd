// Startup time (spawn to the first 200 from /healthz) and memory of the compiled service (bin/sstpwatch.js ->
// dist/) against running the TypeScript sources through tsx (how 0.1.0 started), side by side on the bundled
// demo config, alternating runs so both see the same machine load.
//   npm run build && npx tsx bench/startup.ts [--runs 7] [--settle 5s]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort, loadAverage, memory } from './lib/proc.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, settle: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const settleMs = Number(values.settle) * 1000;

const variants = {
  compiled: ['node', join(root, 'bin/sstpwatch.js'), 'serve'],
  tsx: ['node', '--import', 'tsx', join(root, 'src/main.ts'), 'serve'],
} as const;
type Variant = keyof typeof variants;

async function once_(variant: Variant): Promise<{ startupMs: number; rssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-startup-'));
  const port = await freePort();
  const demo = readFileSync(join(root, 'sstpwatch.yml'), 'utf8').replace('127.0.0.1:9470', `127.0.0.1:${port}`);
  writeFileSync(join(dir, 'sstpwatch.yml'), demo);
  const [cmd, ...args] = variants[variant];
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, SSTPWATCH_CONFIG: join(dir, 'sstpwatch.yml'), SSTPWATCH_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  let startupMs = NaN;
  while (performance.now() - started < 60_000) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) {
        startupMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, settleMs));
  const { rss } = memory(child.pid!);
  child.kill('SIGTERM');
  await once(child, 'exit');
  rmSync(dir, { recursive: true, force: true });
  return { startupMs, rssMb: rss / 1024 / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const samples: Record<Variant, { startupMs: number; rssMb: number }[]> = { compiled: [], tsx: [] };
for (let i = 0; i < runs; i++) {
  const order: Variant[] = i % 2 ? ['tsx', 'compiled'] : ['compiled', 'tsx'];
  for (const variant of order) samples[variant].push(await once_(variant));
}
console.log(`node ${process.version}, ${runs} runs each, RSS after ${settleMs / 1000} s, load average ${loadAverage().join(' ')}`);
for (const [variant, list] of Object.entries(samples)) {
  console.log(
    `${variant.padEnd(9)} startup median ${median(list.map((s) => s.startupMs)).toFixed(0)} ms ` +
      `(min ${Math.min(...list.map((s) => s.startupMs)).toFixed(0)}, max ${Math.max(...list.map((s) => s.startupMs)).toFixed(0)}), ` +
      `RSS median ${median(list.map((s) => s.rssMb)).toFixed(1)} MB`,
  );
}

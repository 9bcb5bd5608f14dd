// Startup time (spawn to the first 200 from /healthz), its CPU, and memory of the compiled service (bin/sstpwatch.js ->
// dist/) against running the TypeScript sources through tsx (how 0.1.0 started), side by side on the bundled
// demo config, alternating runs so both see the same machine load.
//   npm run build && npx tsx bench/startup.ts [--runs 7] [--settle 5s]
// With --baseline, against another checkout's build instead of tsx, and also the wall and CPU of the short
// commands (--version, a usage error, config check, check of a closed port) that admins' scripts and the tests run:
//   git worktree add /tmp/base <commit> && cp -a node_modules /tmp/base/ && (cd /tmp/base && npm run build)
//   npm run build && npx tsx bench/startup.ts --baseline /tmp/base --runs 10 [--only commands|serve]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, loadAverage, memory } from './lib/proc.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, settle: { type: 'string', default: '5' }, baseline: { type: 'string' }, only: { type: 'string' } },
});
const runs = Number(values.runs);
const settleMs = Number(values.settle) * 1000;
const baseline = values.baseline;

const variants: Record<string, string[]> = baseline
  ? { compiled: ['node', join(root, 'bin/sstpwatch.js')], baseline: ['node', join(baseline, 'bin/sstpwatch.js')] }
  : { compiled: ['node', join(root, 'bin/sstpwatch.js')], tsx: ['node', '--import', 'tsx', join(root, 'src/main.ts')] };
type Variant = string;

interface Start {
  startupMs: number;
  /** CPU the process had used when /healthz first answered. */
  cpuMs: number;
  rssMb: number;
}

async function once_(variant: Variant): Promise<Start> {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-startup-'));
  const port = await freePort();
  const demo = readFileSync(join(root, 'sstpwatch.yml'), 'utf8').replace('127.0.0.1:9470', `127.0.0.1:${port}`);
  writeFileSync(join(dir, 'sstpwatch.yml'), demo);
  const [cmd, ...args] = variants[variant]!;
  const started = performance.now();
  const child = spawn(cmd!, [...args, 'serve'], { cwd: root, env: { ...process.env, SSTPWATCH_CONFIG: join(dir, 'sstpwatch.yml'), SSTPWATCH_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  let startupMs = NaN;
  let cpuMs = NaN;
  while (performance.now() - started < 60_000) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) {
        startupMs = performance.now() - started;
        cpuMs = cpuSeconds(child.pid!) * 1000;
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
  return { startupMs, cpuMs, rssMb: rss / 1024 / 1024 };
}

/** The short commands, each run to its end: wall and CPU (user + system) as bash's `time` reports them. */
function commands(dir: string): Record<string, string[]> {
  const config = join(dir, 'sstpwatch.yml');
  writeFileSync(config, readFileSync(join(root, 'sstpwatch.yml'), 'utf8'));
  return {
    '--version': ['--version'],
    'usage error': ['serve', '--no-such-flag'],
    'config check': ['config', 'check', '--config', config],
    'check (closed port)': ['check', 'https://127.0.0.1:9/', '--timeout', '2s', '--no-revocation'],
  };
}

function runCommand(cmd: string[]): { wallMs: number; cpuMs: number } {
  const quoted = cmd.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `TIMEFORMAT='%R %U %S'; { time ${quoted} >/dev/null 2>&1; } 2>&1; exit 0`;
  const [wall, user, system] = execFileSync('bash', ['-c', script], { cwd: root, encoding: 'utf8' }).trim().split(' ').map(Number);
  return { wallMs: wall! * 1000, cpuMs: (user! + system!) * 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const names = Object.keys(variants);
const samples: Record<Variant, Start[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let i = 0; i < runs && values.only !== 'commands'; i++) {
  const order = i % 2 ? [...names].reverse() : names;
  for (const variant of order) samples[variant]!.push(await once_(variant));
}
console.log(`node ${process.version}, ${runs} runs each, RSS after ${settleMs / 1000} s, load average ${loadAverage().join(' ')}`);
const ms = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
for (const [variant, list] of Object.entries(samples)) {
  if (list.length === 0) continue;
  console.log(
    `${variant.padEnd(9)} serve to /healthz: ${ms(list.map((s) => s.startupMs))}, CPU ${ms(list.map((s) => s.cpuMs))}, ` +
      `RSS median ${median(list.map((s) => s.rssMb)).toFixed(1)} MB`,
  );
}

if (baseline && values.only !== 'serve') {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-startup-'));
  const table = commands(dir);
  const timed: Record<string, Record<Variant, { wallMs: number; cpuMs: number }[]>> = {};
  for (const [command, args] of Object.entries(table)) {
    timed[command] = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [...names].reverse() : names;
      for (const variant of order) timed[command][variant]!.push(runCommand([...variants[variant]!, ...args]));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const floor = Array.from({ length: runs }, () => runCommand(['node', '-e', '0']));
  console.log(`\ncommands, median of ${runs} (wall / CPU, ms); node -e 0: ${median(floor.map((t) => t.wallMs)).toFixed(0)} / ${median(floor.map((t) => t.cpuMs)).toFixed(0)}`);
  console.log(`${'command'.padEnd(22)}${names.map((name) => name.padStart(16)).join('')}   CPU ratio`);
  for (const [command, byVariant] of Object.entries(timed)) {
    const cells = names.map((name) => `${median(byVariant[name]!.map((t) => t.wallMs)).toFixed(0)} / ${median(byVariant[name]!.map((t) => t.cpuMs)).toFixed(0)}`.padStart(16));
    const ratio = median(byVariant.compiled!.map((t) => t.cpuMs)) / median(byVariant.baseline!.map((t) => t.cpuMs));
    console.log(`${command.padEnd(22)}${cells.join('')}   ${ratio.toFixed(2)}x`);
  }
}

// Benchmark (not a test): what a housekeeping pass costs a store of N targets, pass after pass, 15 s apart on the
// store's clock (no waiting: `now` is handed to each step). Each target gets --hours of results every 30 s first
// (through the store's own write path); with the default retention nothing is old enough to go (an idle service).
// With --raw-minutes shorter than --hours raw results go as they pass that age, but only once their hour is rolled
// up: within each hour some passes delete results and others cannot (a fleet past its raw retention).
//
// Between passes, --new round (default) writes a probe round every 30 s (one result per target: 2 a minute, what a
// fleet probed every 30 s writes); --new none writes nothing (every minute rolled up is empty).
//
// Reports per store: median and p90 wall time of a pass, the CPU of the median pass and the mean (a minute rollup
// every fourth pass weighs on the mean), its CPU (this process, and the PostgreSQL server's; the writes between
// passes not counted), steps per pass, and the CPU of the minute rollup alone: the median over the passes that
// rolled a minute up (every fourth), in this process and in the PostgreSQL server.
//
// --baseline <dir> runs another checkout's stores (its src/, e.g. `git archive <commit> | tar -x -C <dir>` with
// node_modules linked in) beside this checkout's, on the same data, pass by pass in alternating order, so both
// see the same machine load. (A full collection forced before each pass, with node --expose-gc, made every minute
// rollup cost 3-4x more in both builds, likely V8 discarding the compiled code of what runs once a minute: not done.)
//
//   npx tsx bench/housekeeping.ts --targets 1000 --passes 40                   # idle: nothing due
//   npx tsx bench/housekeeping.ts --targets 1000 --passes 40 --raw-minutes 30  # raw results going
//   npx tsx bench/housekeeping.ts --stores memory,sqlite,postgres --new none --baseline /tmp/base
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { RetentionConfig } from '../src/config/types.js';
import { DEFAULT_RETENTION } from '../src/store/housekeeping-plan.js';
import type { Store } from '../src/store/store.js';
import { probeResult } from '../test/fixtures/domain.js';
import { startPostgres, type TestPostgres } from '../test/fixtures/postgres.js';
import { loadAverage, processTreeCpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '1' },
    passes: { type: 'string', default: '40' },
    'raw-minutes': { type: 'string', default: '' },
    stores: { type: 'string', default: 'memory,sqlite' },
    new: { type: 'string', default: 'round' },
    baseline: { type: 'string' },
  },
});
const targets = Number(values.targets);
const hours = Number(values.hours);
const passes = Number(values.passes);
if (values.new !== 'round' && values.new !== 'none') throw new Error('--new is "round" (a probe round every 30 s) or "none"');
const retention: RetentionConfig = values['raw-minutes'] ? { ...DEFAULT_RETENTION, rawMs: Number(values['raw-minutes']) * 60_000 } : DEFAULT_RETENTION;
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const quiet = pino({ level: 'warn' });
const PASS_MS = 15_000;

/** A checkout whose stores are measured: this one, and the --baseline one. */
interface Build {
  label: string;
  root: string;
}

const builds: Build[] = [{ label: 'this checkout', root: resolve(import.meta.dirname, '..') }];
if (values.baseline) builds.push({ label: 'baseline', root: resolve(values.baseline) });

/** The store openers of a checkout, imported from its own src/. */
async function storeModules(root: string) {
  return {
    memory: (await import(join(root, 'src/store/memory.ts'))) as typeof import('../src/store/memory.js'),
    sqlite: (await import(join(root, 'src/store/sqlite.ts'))) as typeof import('../src/store/sqlite.js'),
    postgres: (await import(join(root, 'src/store/postgres/store.ts'))) as typeof import('../src/store/postgres/store.js'),
  };
}

interface Row {
  store: string;
  build: string;
  p50Ms: number;
  p90Ms: number;
  /** The CPU of the median pass: most passes neither roll up nor prune anything. */
  cpuMsP50: number;
  cpuMsPerPass: number;
  serverCpuMsPerPass: number | null;
  stepsPerPass: number;
  /** The minute rollup's CPU in the passes that rolled a minute up: median, this process and the server. */
  minuteCpuMsP50: number;
  minuteServerCpuMsP50: number | null;
}

interface Measured {
  wall: number[];
  cpuMs: number[];
  serverMs: number[];
  steps: number;
  minuteCpuMs: number[];
  minuteServerMs: number[];
}

/** One pass at `now`, step by step, with the CPU of its minute rollup steps. */
async function pass(store: Store, now: number, serverCpu: () => number | null): Promise<{ steps: number; minuteCpuMs: number; minuteServerMs: number; minuteSteps: number }> {
  let steps = 0;
  let minuteCpuMs = 0;
  let minuteServerMs = 0;
  let minuteSteps = 0;
  for (;;) {
    const server0 = serverCpu();
    const cpu0 = process.cpuUsage();
    const step = await store.housekeepingStep(now);
    const cpu = process.cpuUsage(cpu0);
    if (step === null) break;
    steps++;
    if (step.task === 'rollup_minute') {
      minuteSteps++;
      minuteCpuMs += (cpu.user + cpu.system) / 1000;
      minuteServerMs += ((serverCpu() ?? 0) - (server0 ?? 0)) * 1000;
    }
  }
  return { steps, minuteCpuMs, minuteServerMs, minuteSteps };
}

/** The same history and passes on each build's store, in alternating order pass by pass. */
async function drive(name: string, stores: Store[], serverCpu: () => number | null): Promise<Row[]> {
  const names = Array.from({ length: targets }, (_, i) => `rras-${i}`);
  for (const store of stores) await store.syncTargets(names.map((n) => ({ name: n, group: 'g', role: 'server' as const, url: `https://${n}.example.test/` })));
  let now = Math.floor(Date.now() / 60_000) * 60_000;
  const start = now - hours * 3_600_000;
  for (const store of stores) {
    for (let at = start; at < now; at += 30_000) {
      for (let i = 0; i < targets; i++) store.record(names[i]!, 'head', probeResult(at + i, true, undefined, 12));
      if ((at - start) % 600_000 === 0) await store.flush();
    }
    await store.flush();
  }
  log(`${name}: ${targets} targets, ${hours} h of results written; catching up`);
  for (let i = 0; i < 3; i++) {
    now += PASS_MS;
    for (const store of stores) await pass(store, now, serverCpu); // rollups catch up, every floor is learnt
  }
  const measured: Measured[] = stores.map(() => ({ wall: [], cpuMs: [], serverMs: [], steps: 0, minuteCpuMs: [], minuteServerMs: [] }));
  for (let i = 0; i < passes; i++) {
    // A round is written every other pass and a minute is due every fourth: the order flips every fourth pass, so
    // each build goes first for half the rounds and half the minutes.
    const order = stores.map((_, k) => k);
    if (Math.floor(i / 4) % 2 === 1) order.reverse();
    for (const k of order) {
      const store = stores[k]!;
      // a probe round goes on meanwhile: one result per target every 30 s
      if (values.new === 'round' && i % 2 === 0) for (let t = 0; t < targets; t++) store.record(names[t]!, 'head', probeResult(now + t, true, undefined, 12));
      await store.flush();
    }
    now += PASS_MS;
    for (const k of order) {
      const m = measured[k]!;
      const server0 = serverCpu();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const done = await pass(stores[k]!, now, serverCpu);
      m.wall.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      m.cpuMs.push((cpu.user + cpu.system) / 1000);
      m.serverMs.push(((serverCpu() ?? 0) - (server0 ?? 0)) * 1000);
      m.steps += done.steps;
      if (done.minuteSteps > 0) {
        m.minuteCpuMs.push(done.minuteCpuMs);
        m.minuteServerMs.push(done.minuteServerMs);
      }
    }
  }
  const server = serverCpu() !== null;
  return measured.map((m, k) => ({
    store: name,
    build: builds[k]!.label,
    p50Ms: round(percentile(m.wall, 50)),
    p90Ms: round(percentile(m.wall, 90)),
    cpuMsP50: round(percentile(m.cpuMs, 50)),
    cpuMsPerPass: round(m.cpuMs.reduce((a, b) => a + b, 0) / passes),
    serverCpuMsPerPass: server ? round(m.serverMs.reduce((a, b) => a + b, 0) / passes) : null,
    stepsPerPass: round(m.steps / passes),
    minuteCpuMsP50: round(percentile(m.minuteCpuMs, 50)),
    minuteServerCpuMsP50: server ? round(percentile(m.minuteServerMs, 50)) : null,
  }));
}

const round = (n: number): number => Math.round(n * 100) / 100;


async function main(): Promise<void> {
  const stores = values.stores.split(',');
  const modules = await Promise.all(builds.map((b) => storeModules(b.root)));
  const rows: Row[] = [];
  log(`load ${loadAverage().join(' ')}`);
  const options = { log: quiet, retention, maxPending: 100_000_000 };
  if (stores.includes('memory')) {
    const opened = modules.map((m) => new m.memory.MemoryStore(options));
    rows.push(...(await drive('memory', opened, () => null)));
    for (const store of opened) await store.close();
  }
  if (stores.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-bench-housekeeping-'));
    const opened = modules.map((m, k) => m.sqlite.openSqliteStore({ path: join(dir, `bench-${k}.db`), ...options }));
    try {
      rows.push(...(await drive('SQLite', opened, () => null)));
    } finally {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (stores.includes('postgres')) {
    let server: TestPostgres | null = null;
    try {
      server = await startPostgres({ fsync: true });
      const pg = server;
      const opened = await Promise.all(modules.map(async (m, k) => m.postgres.openPostgresStore({ url: pg.urlWithPassword(await pg.createDatabase(`bench${k}`)), ...options })));
      const pid = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      try {
        rows.push(...(await drive('PostgreSQL 15', opened, () => processTreeCpuSeconds(pid))));
      } finally {
        for (const store of opened) await store.close();
      }
    } finally {
      server?.destroy();
    }
  }
  const what = values['raw-minutes'] ? `raw retention ${values['raw-minutes']} min: raw results going` : 'default retention: nothing old enough to go';
  const written = values.new === 'round' ? 'a probe round every 30 s between passes' : 'nothing written between passes';
  console.log(`\n${targets} targets, ${hours} h of results every 30 s, ${passes} passes 15 s apart, ${written}, ${what} (${new Date().toISOString().slice(0, 16)}Z, load ${loadAverage().join(' ')})\n`);
  console.log('| store | build | pass p50 | pass p90 | CPU ms, median pass | CPU ms/pass, mean (sstpwatch) | CPU ms/pass, mean (database server) | steps/pass | minute rollup CPU ms, median (sstpwatch) | minute rollup CPU ms, median (database server) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.store} | ${r.build} | ${r.p50Ms} ms | ${r.p90Ms} ms | ${r.cpuMsP50} | ${r.cpuMsPerPass} | ${r.serverCpuMsPerPass ?? 'in-process'} | ${r.stepsPerPass} | ${r.minuteCpuMsP50} | ${r.minuteServerCpuMsP50 ?? 'in-process'} |`,
    );
  }
}

await main();

// Benchmark (not a test): what a housekeeping pass costs a store of N targets, pass after pass, 15 s apart on the
// store's clock (no waiting: `now` is handed to each step). Each target gets --hours of results every 30 s first
// (through the store's own write path); with the default retention nothing is old enough to go (an idle service).
// With --raw-minutes shorter than --hours raw results go as they pass that age, but only once their hour is rolled
// up: within each hour some passes delete results and others cannot (a fleet past its raw retention).
//
// Reports per store: median and p90 wall time of a pass, the CPU of the median pass and the mean (a minute rollup
// every fourth pass weighs on the mean), its CPU (this process, and the PostgreSQL server's; the
// writes between passes not counted), and steps per pass. Compare two versions side by side by running this file from a worktree of each, one after the other.
//
//   npx tsx bench/housekeeping.ts --targets 1000 --passes 40                   # idle: nothing due
//   npx tsx bench/housekeeping.ts --targets 1000 --passes 40 --raw-minutes 30  # raw results going
//   npx tsx bench/housekeeping.ts --stores memory,sqlite,postgres
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { RetentionConfig } from '../src/config/types.js';
import { DEFAULT_RETENTION } from '../src/store/housekeeping-plan.js';
import { MemoryStore } from '../src/store/memory.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { openSqliteStore } from '../src/store/sqlite.js';
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
  },
});
const targets = Number(values.targets);
const hours = Number(values.hours);
const passes = Number(values.passes);
const retention: RetentionConfig = values['raw-minutes'] ? { ...DEFAULT_RETENTION, rawMs: Number(values['raw-minutes']) * 60_000 } : DEFAULT_RETENTION;
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const quiet = pino({ level: 'warn' });
const PASS_MS = 15_000;

interface Row {
  store: string;
  p50Ms: number;
  p90Ms: number;
  /** The CPU of the median pass: most passes neither roll up nor prune anything. */
  cpuMsP50: number;
  cpuMsPerPass: number;
  serverCpuMsPerPass: number | null;
  stepsPerPass: number;
}

async function drive(name: string, store: Store, serverCpu: () => number | null): Promise<Row> {
  const names = Array.from({ length: targets }, (_, i) => `rras-${i}`);
  await store.syncTargets(names.map((n) => ({ name: n, group: 'g', role: 'server' as const, url: `https://${n}.example.test/` })));
  let now = Math.floor(Date.now() / 60_000) * 60_000;
  const start = now - hours * 3_600_000;
  for (let at = start; at < now; at += 30_000) {
    for (let i = 0; i < targets; i++) store.record(names[i]!, 'head', probeResult(at + i, true, undefined, 12));
    if ((at - start) % 600_000 === 0) await store.flush();
  }
  await store.flush();
  log(`${name}: ${targets} targets, ${hours} h of results written; catching up`);
  for (let i = 0; i < 3; i++) await pass(store, (now += PASS_MS)); // rollups catch up, every floor is learnt
  const wall: number[] = [];
  let steps = 0;
  const cpuMs: number[] = [];
  let serverS = 0;
  for (let i = 0; i < passes; i++) {
    // a probe round goes on meanwhile: one result per target every 30 s
    if (i % 2 === 0) for (let t = 0; t < targets; t++) store.record(names[t]!, 'head', probeResult(now + t, true, undefined, 12));
    await store.flush();
    now += PASS_MS;
    const server0 = serverCpu();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    steps += await pass(store, now);
    wall.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    serverS += (serverCpu() ?? 0) - (server0 ?? 0);
  }
  return {
    store: name,
    p50Ms: round(percentile(wall, 50)),
    p90Ms: round(percentile(wall, 90)),
    cpuMsP50: round(percentile(cpuMs, 50)),
    cpuMsPerPass: round(cpuMs.reduce((a, b) => a + b, 0) / passes),
    serverCpuMsPerPass: serverCpu() === null ? null : round((serverS * 1000) / passes),
    stepsPerPass: round(steps / passes),
  };
}

async function pass(store: Store, now: number): Promise<number> {
  let steps = 0;
  while ((await store.housekeepingStep(now)) !== null) steps++;
  return steps;
}

const round = (n: number): number => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const stores = values.stores.split(',');
  const rows: Row[] = [];
  log(`load ${loadAverage().join(' ')}`);
  if (stores.includes('memory')) {
    const store = new MemoryStore({ log: quiet, retention, maxPending: 100_000_000 });
    rows.push(await drive('memory', store, () => null));
    await store.close();
  }
  if (stores.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-bench-housekeeping-'));
    const store = openSqliteStore({ path: join(dir, 'bench.db'), log: quiet, retention, maxPending: 100_000_000 });
    try {
      rows.push(await drive('SQLite', store, () => null));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (stores.includes('postgres')) {
    let server: TestPostgres | null = null;
    try {
      server = await startPostgres({ fsync: true });
      const database = await server.createDatabase('bench');
      const store = await openPostgresStore({ url: server.urlWithPassword(database), log: quiet, retention, maxPending: 100_000_000 });
      const pid = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      try {
        rows.push(await drive('PostgreSQL 15', store, () => processTreeCpuSeconds(pid)));
      } finally {
        await store.close();
      }
    } finally {
      server?.destroy();
    }
  }
  const what = values['raw-minutes'] ? `raw retention ${values['raw-minutes']} min: raw results going` : 'default retention: nothing old enough to go';
  console.log(`\n${targets} targets, ${hours} h of results every 30 s, ${passes} passes 15 s apart, ${what} (${new Date().toISOString().slice(0, 16)}Z, load ${loadAverage().join(' ')})\n`);
  console.log('| store | pass p50 | pass p90 | CPU ms, median pass | CPU ms/pass, mean (sstpwatch) | CPU ms/pass, mean (database server) | steps/pass |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.store} | ${r.p50Ms} ms | ${r.p90Ms} ms | ${r.cpuMsP50} | ${r.cpuMsPerPass} | ${r.serverCpuMsPerPass ?? 'in-process'} | ${r.stepsPerPass} |`);
  }
}

await main();

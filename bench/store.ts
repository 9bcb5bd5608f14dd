// Benchmark (not a test): the write path of each store at fleet rate, in real time. N targets every --interval s
// (10,000 every 30 s: 333 results a second), results recorded as the scheduler spreads them, flushed once a second
// and housekept every 15 s as the service does; for --seconds after a --warmup. Beside each other: SQLite (a temp
// file) and PostgreSQL 15 (Debian's, started here with test/fixtures/postgres.ts, fsync on, default settings).
//
// Reports per store: CPU per result of this process (the store's encoding, batching and driver; the generator is a
// few object literals), CPU per result of the PostgreSQL server processes, database bytes per result (the results
// table with its index, after the run), and the write latency of one flush (the batch of the last second) p50/p99.
//
//   npx tsx bench/store.ts                                  # 10,000 targets every 30 s, 120 s each store
//   npx tsx bench/store.ts --targets 1000 --seconds 30      # quicker
// Stops by itself (a hard limit of warm-up + seconds + 120 s per store); prints a markdown table.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { ProbeResult } from '../src/probe/types.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { startPostgres, type TestPostgres } from '../test/fixtures/postgres.js';
import { cpuSeconds, loadAverage, processTreeCpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '120' },
    warmup: { type: 'string', default: '15' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    /** Minutes of results written (through the store, at full speed) before the run, so the results table outgrows the cache. */
    prefill: { type: 'string', default: '0' },
    /** SQLite page cache sizes to run, in KiB, comma-separated (each is one SQLite row); default the store's own. */
    'cache-kib': { type: 'string', default: '' },
  },
});
const targets = Number(values.targets);
const intervalMs = Number(values.interval) * 1000;
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const quiet = pino({ level: 'warn' });

/** The subset of a store this benchmark drives. */
interface WritableStore {
  syncTargets(t: { name: string; group: string; role: 'server'; url: string }[]): unknown;
  record(target: string, check: 'head', result: ProbeResult): void;
  flush(): unknown;
  housekeepingStep(now: number): unknown;
  writeHealth(): { ok: boolean; pending: number; dropped: number };
  close(): unknown;
}

interface Row {
  store: string;
  results: number;
  cpuUsPerResult: number;
  serverCpuUsPerResult: number | null;
  bytesPerResult: number;
  flushP50Ms: number;
  flushP99Ms: number;
  flushMaxMs: number;
  pendingAtEnd: number;
  dropped: number;
}

const SHA = 'AB'.repeat(32);
const okResult = (at: number, i: number): ProbeResult => ({
  at,
  ok: true,
  errorKind: 'ok',
  message: 'HTTP/1.1 401 Unauthorized',
  statusCode: 401,
  httpVersion: '1.1',
  durationMs: 3 + (i % 700) / 100,
  phasesMs: { dns: 0.05, connect: 0.3, tls: 2.1 + (i % 50) / 100, processing: 0.6 },
  tlsVersion: 'TLSv1.3',
  certificateSha256: SHA,
  certificate: null,
});

const names = Array.from({ length: targets }, (_, i) => `rras-${String(i).padStart(5, '0')}`);

async function drive(name: string, store: WritableStore, serverCpu: () => number | null, size: () => Promise<{ bytes: number; rows: number }>): Promise<Row> {
  await store.syncTargets(names.map((n) => ({ name: n, group: `g${n.slice(-2)}`, role: 'server', url: `https://${n}.example` })));
  const prefillResults = Math.floor((Number(values.prefill) * 60_000) / intervalMs) * targets;
  if (prefillResults > 0) {
    const from = Date.now() - Number(values.prefill) * 60_000;
    for (let k = 0; k < prefillResults; k++) {
      store.record(names[k % targets]!, 'head', okResult(from + Math.floor(k / targets) * intervalMs + Math.floor(((k % targets) * intervalMs) / targets), k));
      if (k % 5000 === 4999) await store.flush();
    }
    await store.flush();
    log(`${name}: ${prefillResults} results written before the run`);
  }
  const started = Date.now();
  const stopAt = started + (warmupS + seconds) * 1000;
  const hardStop = setTimeout(() => {
    log(`${name}: hard time limit reached; exiting`);
    process.exit(2);
  }, (warmupS + seconds + 120) * 1000);
  let next = 0; // index of the next result due, over all targets
  const dueAt = (k: number): number => started + Math.floor(k / targets) * intervalMs + Math.floor(((k % targets) * intervalMs) / targets);
  const flushMs: number[] = [];
  let measuring = false;
  let recorded = 0;
  let cpu0 = 0;
  let server0: number | null = null;
  let lastHousekeeping = Date.now();
  while (Date.now() < stopAt) {
    const now = Date.now();
    if (!measuring && now - started >= warmupS * 1000) {
      measuring = true;
      cpu0 = cpuSeconds(process.pid);
      server0 = serverCpu();
      recorded = 0;
    }
    while (dueAt(next) <= now) {
      store.record(names[next % targets]!, 'head', okResult(dueAt(next), next));
      next++;
      if (measuring) recorded++;
    }
    const t = performance.now();
    await store.flush();
    if (measuring) flushMs.push(performance.now() - t);
    if (now - lastHousekeeping >= 15_000) {
      lastHousekeeping = now;
      while ((await store.housekeepingStep(Date.now())) !== null) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - now))));
  }
  const cpu = cpuSeconds(process.pid) - cpu0;
  const server1 = serverCpu();
  const health = store.writeHealth();
  clearTimeout(hardStop);
  const { bytes, rows } = await size();
  return {
    store: name,
    results: recorded,
    cpuUsPerResult: Math.round((cpu / recorded) * 1e6 * 10) / 10,
    serverCpuUsPerResult: server0 === null || server1 === null ? null : Math.round(((server1 - server0) / recorded) * 1e6 * 10) / 10,
    bytesPerResult: Math.round((bytes / rows) * 10) / 10,
    flushP50Ms: Math.round(percentile(flushMs, 50) * 10) / 10,
    flushP99Ms: Math.round(percentile(flushMs, 99) * 10) / 10,
    flushMaxMs: Math.round(Math.max(...flushMs) * 10) / 10,
    pendingAtEnd: health.pending,
    dropped: health.dropped,
  };
}

/** The postmaster and every process it started (backends, checkpointer, walwriter, autovacuum...). */
function postgresCpu(dataDir: string): number {
  return processTreeCpuSeconds(Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]));
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const stores = values.stores.split(',');
  log(`${targets} targets every ${intervalMs / 1000} s (${Math.round(targets / (intervalMs / 1000))}/s), ${warmupS} s warm-up, ${seconds} s measured; load ${loadAverage().join(' ')}`);
  const cacheSizes = values['cache-kib'] ? values['cache-kib'].split(',').map(Number) : [undefined];
  for (const cacheKiB of stores.includes('sqlite') ? cacheSizes : []) {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-bench-store-'));
    const path = join(dir, 'bench.db');
    const store = openSqliteStore({ path, log: quiet, cacheKiB });
    const name = cacheKiB === undefined ? 'SQLite' : `SQLite, cache ${cacheKiB / 1024} MiB`;
    try {
      log(`${name}: running`);
      rows.push(
        await drive(name, store, () => null, async () => {
          const db = new Database(path, { readonly: true });
          try {
            const n = (db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
            const t = db.prepare("SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = 'results'").get() as { bytes: number };
            return { bytes: t.bytes, rows: n };
          } finally {
            db.close();
          }
        }),
      );
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
      const store = await openPostgresStore({ url: server.urlWithPassword(database), log: quiet });
      const dataDir = join(server.dir, 'data');
      log('postgres: running');
      try {
        rows.push(
          await drive('PostgreSQL 15', store, () => postgresCpu(dataDir), async () => {
            await store.flush();
            const { rows: r } = await store.db.query<{ bytes: number; n: number }>(
              "SELECT pg_total_relation_size('results')::int8 AS bytes, (SELECT count(*) FROM results)::int8 AS n",
            );
            return { bytes: r[0]!.bytes, rows: r[0]!.n };
          }),
        );
      } finally {
        await store.close();
      }
    } finally {
      server?.destroy();
    }
  }
  console.log(`\n${targets} targets every ${intervalMs / 1000} s, ${seconds} s measured (${new Date().toISOString().slice(0, 16)}Z, load ${loadAverage().join(' ')})\n`);
  console.log('| store | results | CPU µs/result (sstpwatch) | CPU µs/result (database server) | bytes/result | flush p50 | flush p99 | flush max | pending at end | dropped |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.store} | ${r.results} | ${r.cpuUsPerResult} | ${r.serverCpuUsPerResult ?? 'in-process'} | ${r.bytesPerResult} | ${r.flushP50Ms} ms | ${r.flushP99Ms} ms | ${r.flushMaxMs} ms | ${r.pendingAtEnd} | ${r.dropped} |`,
    );
  }
}

await main();

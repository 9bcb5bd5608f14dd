// Benchmark (not a test): how long the monitor's restore of arriving targets waits on the store, the reads a start
// (every target) or a takeover (a dead peer's half of a shared site) makes before the targets are probed again.
// Side by side in one run, alternating: the per-target reads the restore made before (lastTransition() and
// maintenance() of each target, 8 targets in flight) and the batch read it makes now (recordedStates()).
// Stores: SQLite (a temp file) and PostgreSQL 15 (Debian's, started here with test/fixtures/postgres.ts, the
// store's default pool of 4 connections). Each store holds --targets targets with --transitions transitions each and
// a maintenance window on 1% of them; each round restores --sizes names (the first N targets).
//
//   npx tsx bench/restore.ts                                   # 10,000 targets; 5,000 and 10,000 restored, 7 rounds
//   npx tsx bench/restore.ts --rounds 3 --stores sqlite        # quicker
// Prints a markdown table: median, min and max of each way, and the ratio of the medians (per-target / batch).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Maintenance, StateTransition } from '../src/health/types.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { startPostgres, type TestPostgres } from '../test/fixtures/postgres.js';
import { loadAverage } from './lib/proc.js';
import { percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    sizes: { type: 'string', default: '5000,10000' },
    transitions: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '7' },
    stores: { type: 'string', default: 'sqlite,postgres' },
  },
});
const targets = Number(values.targets);
const sizes = values.sizes.split(',').map(Number);
const transitionsPerTarget = Number(values.transitions);
const rounds = Number(values.rounds);
const stores = values.stores.split(',');
if (sizes.some((size) => !(size > 0 && size <= targets))) throw new Error(`--sizes must be between 1 and --targets (${targets})`);
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const quiet = pino({ level: 'warn' });
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const names = Array.from({ length: targets }, (_, i) => `rras-${String(i).padStart(5, '0')}`);

/** The restore's reads before the batch read: two per target, 8 targets in flight (the monitor's mapWithLimit). */
async function perTargetReads(store: Store, asked: readonly string[]): Promise<Map<string, { transition: StateTransition | null; maintenance: Maintenance | null }>> {
  const answers = new Map<string, { transition: StateTransition | null; maintenance: Maintenance | null }>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < asked.length) {
      const name = asked[next++]!;
      const [transition, maintenance] = await Promise.all([store.lastTransition(name), store.maintenance(name)]);
      answers.set(name, { transition, maintenance });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, asked.length) }, worker));
  return answers;
}

/** Every target with its transitions (unknown -> up, then down and up again), 1% in maintenance. */
async function fill(store: Store): Promise<void> {
  await store.syncTargets(names.map((name) => ({ name, group: `vpn-${name.slice(-2)}`, role: 'server', url: `https://${name}.example` })));
  for (let start = 0; start < names.length; start += 1000) {
    for (const [i, name] of names.slice(start, start + 1000).entries()) {
      for (let k = 0; k < transitionsPerTarget; k++) {
        const to = k % 2 === 0 ? 'up' : 'down';
        store.recordTransition({ target: name, at: T0 + k * 3_600_000 + start + i, from: k === 0 ? 'unknown' : to === 'up' ? 'down' : 'up', to, cause: to === 'up' ? 'ok' : 'timeout', message: null });
      }
    }
    await store.flush();
  }
  for (let i = 0; i < names.length; i += 100) await store.setMaintenance(names[i]!, { until: T0 + 86_400_000, reason: 'patching' });
  if (!store.writeHealth().ok) throw new Error(`the history was not written: ${store.writeHealth().reason}`);
}

interface Row {
  store: string;
  size: number;
  perTarget: number[];
  batch: number[];
}

async function measure(label: string, store: Store): Promise<Row[]> {
  const rows: Row[] = sizes.map((size) => ({ store: label, size, perTarget: [], batch: [] }));
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const asked = names.slice(0, row.size);
      // Alternate which goes first, so neither always finds the caches warmer.
      const ways = round % 2 === 0 ? (['perTarget', 'batch'] as const) : (['batch', 'perTarget'] as const);
      const answers: unknown[] = [];
      for (const way of ways) {
        const started = performance.now();
        answers.push(way === 'batch' ? await store.recordedStates(asked) : await perTargetReads(store, asked));
        row[way].push(performance.now() - started);
      }
      if (JSON.stringify([...(answers[0] as Map<string, unknown>)].sort()) !== JSON.stringify([...(answers[1] as Map<string, unknown>)].sort())) {
        throw new Error(`${label}: the batch read and the per-target reads answered differently for ${row.size} targets`);
      }
    }
    log(`${label}: round ${round + 1}/${rounds}`);
  }
  return rows;
}

const median = (samples: number[]): number => percentile(samples, 50);
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-bench-restore-'));
  let postgres: TestPostgres | null = null;
  try {
    for (const kind of stores) {
      let store: Store;
      if (kind === 'sqlite') store = openSqliteStore({ path: join(dir, 'restore.db'), log: quiet, maxPending: 1_000_000 });
      else if (kind === 'postgres') {
        const server = await startPostgres();
        postgres = server;
        const url = server.urlWithPassword(await server.createDatabase());
        store = await openPostgresStore({ url, log: quiet, maxPending: 1_000_000, site: 'lan' });
      } else throw new Error(`unknown store ${JSON.stringify(kind)}: sqlite or postgres`);
      try {
        log(`${kind}: writing ${targets} targets with ${transitionsPerTarget} transitions each`);
        await fill(store);
        rows.push(...(await measure(kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', store)));
      } finally {
        await store.close();
      }
    }
  } finally {
    postgres?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadAverage();
  console.log(`Restore of arriving targets' recorded state, ${targets} targets stored, ${transitionsPerTarget} transitions each, ${rounds} rounds`);
  console.log(`Load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log('| store | targets restored | per-target reads, median (min-max) ms | batch read, median (min-max) ms | ratio of medians |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) {
    const range = (samples: number[]) => `${ms(median(samples))} (${ms(Math.min(...samples))}-${ms(Math.max(...samples))})`;
    console.log(`| ${row.store} | ${row.size.toLocaleString('en-US')} | ${range(row.perTarget)} | ${range(row.batch)} | ${(median(row.perTarget) / median(row.batch)).toFixed(1)}x |`);
  }
}

await main();

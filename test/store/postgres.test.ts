// The PostgreSQL store against a real PostgreSQL 15 (test/fixtures/postgres.ts): its migrations, the same answers
// as the SQLite store for the same history, and writes that wait out a server restart.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateTransition } from '../../src/health/types.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { MigrationError, readMigrations } from '../../src/store/migrate.js';
import { PostgresConnection } from '../../src/store/postgres/connection.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { DEFAULT_MIGRATIONS_DIR, openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { TargetRecord, UptimeExclusion } from '../../src/store/store.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';

const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;

let server: TestPostgres;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
const quiet: Logger = pino({ level: 'silent' });

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-pgstore-'));
});

afterAll(() => {
  server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openStore(database: string, over: { now?: () => number; log?: Logger; maxPending?: number } = {}): Promise<PostgresStore> {
  const store = await openPostgresStore({ url: server.urlWithPassword(database), log: over.log ?? quiet, startupTimeoutMs: 5_000, ...over });
  cleanups.push(() => store.close());
  return store;
}

function connection(database: string): PostgresConnection {
  const db = new PostgresConnection({ url: server.urlWithPassword(database), log: quiet });
  cleanups.push(() => db.close());
  return db;
}

const target = (name: string): TargetRecord => ({ name, group: 'vpn-eu', role: 'server', url: `https://${name}.example` });

describe('PostgreSQL migrations', () => {
  it('have the same numbers and names as the SQLite migrations', () => {
    const names = (d: string) => readMigrations(d).map((m) => `${m.version}_${m.name}`);
    expect(names(POSTGRES_MIGRATIONS_DIR)).toEqual(names(DEFAULT_MIGRATIONS_DIR));
    expect(readdirSync(POSTGRES_MIGRATIONS_DIR).length).toBeGreaterThan(0);
  });

  it('run once when two instances start at the same moment', async () => {
    const database = await server.createDatabase();
    const [a, b] = await Promise.all([migratePostgres(connection(database)), migratePostgres(connection(database))]);
    const shipped = readMigrations(POSTGRES_MIGRATIONS_DIR).length;
    expect(a.length + b.length).toBe(shipped);
    expect([a.length, b.length].sort()).toEqual([0, shipped]);
    const { rows } = await connection(database).query<{ n: number }>('SELECT count(*)::int8 AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(shipped);
  });

  it('refuse a database written by a newer sstpwatch', async () => {
    const database = await server.createDatabase();
    const db = connection(database);
    await migratePostgres(db);
    await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', 0)");
    await expect(migratePostgres(db)).rejects.toThrow(/schema version 9999, newer than this sstpwatch knows/);
    await expect(migratePostgres(db)).rejects.toBeInstanceOf(MigrationError);
  });

  it('roll a failing migration back entirely and say which file failed', async () => {
    const database = await server.createDatabase();
    const migrations = join(dir, 'broken');
    mkdirSync(migrations, { recursive: true });
    writeFileSync(join(migrations, '0001_ok.sql'), 'CREATE TABLE a (x integer);');
    writeFileSync(join(migrations, '0002_broken.sql'), 'CREATE TABLE b (x integer); SELECT no_such_function();');
    const db = connection(database);
    await expect(migratePostgres(db, migrations)).rejects.toThrow(/0002_broken\.sql failed/);
    const { rows } = await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(rows.map((r) => r.name)).toEqual(['a', 'schema_migrations']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Three days of history for two targets, written the same way into both stores.

const SHA = ['AB'.repeat(32), 'CD'.repeat(32)];

function resultAt(i: number, name: string): ProbeResult {
  const at = T0 + i * 30_000 + (name === 'rras-2' ? 7 : 0);
  const ok = i % 17 !== 3 && !(i > 2000 && i < 2040 && name === 'rras-2');
  const base: ProbeResult = {
    at,
    ok,
    errorKind: ok ? 'ok' : i % 2 ? 'timeout' : 'connect_refused',
    message: ok ? 'HTTP/1.1 401 Unauthorized' : `refused #${i}`,
    statusCode: ok ? 401 : null,
    httpVersion: ok ? (i % 50 === 0 ? '2' : '1.1') : null,
    durationMs: ((i * 7919) % 500) / 10 + 0.001,
    phasesMs: ok ? { dns: 0.1, connect: 0.4 + (i % 5), tls: 6.2, processing: 5.7 } : {},
    tlsVersion: ok ? (i % 40 === 0 ? 'TLSv1.2' : 'TLSv1.3') : null,
    certificateSha256: ok ? SHA[i % 400 < 200 ? 0 : 1]! : null,
    certificate: null,
  };
  if (ok && i % 97 === 0) base.message = 'HTTP/1.1 401 Something else';
  return base;
}

const exclusionAt = (i: number): UptimeExclusion => (i < 4 ? 'unknown' : i >= 3000 && i < 3100 ? 'maintenance' : null);

const transitions = (name: string): StateTransition[] => [
  { target: name, at: T0, from: 'unknown', to: 'up', cause: null, message: null },
  { target: name, at: T0 + 2001 * 30_000, from: 'up', to: 'down', cause: 'timeout', message: 'timed out' },
  { target: name, at: T0 + 2040 * 30_000, from: 'down', to: 'up', cause: 'ok', message: null },
  { target: name, at: T0 + 2040 * 30_000, from: 'up', to: 'maintenance', cause: null, message: 'same millisecond' },
];

interface Writable {
  syncTargets(t: TargetRecord[]): unknown;
  record(target: string, result: ProbeResult, exclusion?: UptimeExclusion): void;
  recordTransition(t: StateTransition): void;
  recordSstp(target: string, result: ProbeResult): void;
  flush(): unknown;
  housekeepingStep(now: number): unknown;
}

const PROBES = 3 * 24 * 120; // three days every 30 s
const NOW = T0 + PROBES * 30_000 + 5 * MINUTE;

async function writeHistory(store: Writable): Promise<void> {
  await store.syncTargets([target('rras-1'), target('rras-2')]);
  for (let i = 0; i < PROBES; i++) {
    for (const name of ['rras-1', 'rras-2']) store.record(name, resultAt(i, name), exclusionAt(i));
    if (i % 1000 === 999) await store.flush();
  }
  // Two results of one target in the same millisecond: both kept, the second a millisecond later.
  store.record('rras-1', resultAt(PROBES, 'rras-1'));
  store.record('rras-1', { ...resultAt(PROBES, 'rras-1'), durationMs: 99 });
  for (const name of ['rras-1', 'rras-2']) for (const t of transitions(name)) store.recordTransition(t);
  store.recordSstp('rras-1', { ...resultAt(10, 'rras-1'), at: NOW - MINUTE, sstp: undefined });
  await store.flush();
  while ((await store.housekeepingStep(NOW)) !== null) {
    // one bounded step at a time, to the end of the pass
  }
}

describe('the PostgreSQL store', () => {
  it('answers exactly as the SQLite store for the same three days of history', { timeout: 120_000 }, async () => {
    const now = () => NOW;
    const sqlite: SqliteStore = openSqliteStore({ path: join(dir, 'same.db'), log: quiet, now, retention: { rawMs: 2 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 } });
    cleanups.push(() => sqlite.close());
    const pgStore = await openPostgresStore({
      url: server.urlWithPassword(await server.createDatabase()),
      log: quiet,
      now,
      retention: { rawMs: 2 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 },
    });
    cleanups.push(() => pgStore.close());
    await writeHistory(sqlite);
    await writeHistory(pgStore);
    expect(pgStore.writeHealth()).toEqual(sqlite.writeHealth());

    for (const name of ['rras-1', 'rras-2']) {
      // raw history, every page
      let cursor: string | undefined;
      let pages = 0;
      do {
        const a = sqlite.history(name, { limit: 997, cursor });
        const b = await pgStore.history(name, { limit: 997, cursor });
        expect(b).toEqual(a);
        cursor = a.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThan(2);
      for (const resolution of ['1m', '1h'] as const) {
        let next: string | undefined;
        do {
          const a = sqlite.rollups(name, resolution, { limit: 500, cursor: next });
          expect(await pgStore.rollups(name, resolution, { limit: 500, cursor: next })).toEqual(a);
          next = a.nextCursor ?? undefined;
        } while (next);
        const window = { from: T0 + 26 * HOUR + 7 * MINUTE + 11, to: T0 + 40 * HOUR, limit: 100 };
        expect(await pgStore.rollups(name, resolution, window)).toEqual(sqlite.rollups(name, resolution, window));
      }
      for (const [from, to] of [[T0, NOW], [T0 + 1234, T0 + 50 * HOUR + 17], [NOW - 3 * HOUR, NOW], [T0 + 30 * HOUR, T0 + 31 * HOUR]] as const) {
        expect(await pgStore.uptime(name, from, to)).toEqual(sqlite.uptime(name, from, to));
      }
      expect(await pgStore.transitionsBetween(name, T0 + HOUR, NOW)).toEqual(sqlite.transitionsBetween(name, T0 + HOUR, NOW));
      expect(await pgStore.lastTransition(name)).toEqual(sqlite.lastTransition(name));
      expect(await pgStore.lastResult(name)).toEqual(sqlite.lastResult(name));
      expect(await pgStore.lastSstpResult(name)).toEqual(sqlite.lastSstpResult(name));
    }
    const uptime = await pgStore.uptime('rras-1', T0, NOW);
    expect(uptime.probes).toBeGreaterThan(PROBES - 200);
    expect(uptime.failures).toBeGreaterThan(0);
    // retention pruned the raw rows of the first day on both
    expect((await pgStore.history('rras-1', { limit: 1, to: T0 + 10 * HOUR })).items).toEqual([]);
  });

  it('keeps maintenance and the last transition across a restart', async () => {
    const database = await server.createDatabase();
    const first = await openStore(database);
    await first.syncTargets([target('rras-1')]);
    first.recordTransition({ target: 'rras-1', at: T0, from: 'up', to: 'down', cause: 'timeout', message: 'timed out' });
    await first.setMaintenance('rras-1', { until: T0 + HOUR, reason: 'patching' });
    await first.close();
    const second = await openStore(database);
    expect(await second.maintenance('rras-1')).toEqual({ until: T0 + HOUR, reason: 'patching' });
    expect(await second.lastTransition('rras-1')).toMatchObject({ at: T0, to: 'down', cause: 'timeout' });
    await second.setMaintenance('rras-1', null);
    expect(await second.maintenance('rras-1')).toBeNull();
  });

  it('keeps results queued while PostgreSQL restarts and writes every one of them when it is back', { timeout: 60_000 }, async () => {
    const database = await server.createDatabase();
    const store = await openStore(database);
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', resultAt(0, 'rras-1'));
    await store.flush();
    server.stop();
    try {
      for (let i = 1; i <= 50; i++) store.record('rras-1', resultAt(i, 'rras-1'));
      await store.flush();
      const down = store.writeHealth();
      expect(down.ok).toBe(false);
      expect(down.reason).toMatch(/^PostgreSQL: /);
      expect(down.pending).toBe(50);
      for (let i = 51; i <= 100; i++) store.record('rras-1', resultAt(i, 'rras-1'));
      await store.flush();
      expect(store.writeHealth()).toMatchObject({ ok: false, pending: 100, dropped: 0 });
    } finally {
      server.start();
    }
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, reason: null, pending: 0, dropped: 0 });
    const page = await store.history('rras-1', { limit: 1000 });
    expect(page.items.map((r) => r.at)).toEqual(Array.from({ length: 101 }, (_, i) => resultAt(100 - i, 'rras-1').at));
  });

  it('stores a status code or a duration beyond its column as NULL or clamped, never refusing the batch', async () => {
    const store = await openStore(await server.createDatabase());
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', resultAt(1, 'rras-1'));
    // A status code beyond smallint is stored as NULL rather than refused; a duration beyond integer is clamped.
    store.record('rras-1', { ...resultAt(2, 'rras-1'), statusCode: 70_000, durationMs: 1e10 });
    store.record('rras-1', resultAt(3, 'rras-1'));
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    const page = await store.history('rras-1', { limit: 10 });
    expect(page.items).toHaveLength(3);
    expect(page.items[1]).toMatchObject({ statusCode: null, durationMs: 2_147_483.647 });
  });

  it('stores a message with a NUL character (which PostgreSQL text cannot hold) with U+FFFD in its place', async () => {
    const store = await openStore(await server.createDatabase());
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', { ...resultAt(3, 'rras-1'), message: 'bad\u0000status' });
    await store.flush();
    expect((await store.lastResult('rras-1'))?.message).toBe('bad\uFFFDstatus');
  });
});

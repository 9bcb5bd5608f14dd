// The PostgreSQL store against a real PostgreSQL 15 (test/fixtures/postgres.ts): its migrations, the same answers
// as the SQLite store for the same history, and writes that wait out a server restart.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { RetentionConfig } from '../../src/config/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MigrationError, readMigrations } from '../../src/store/migrate.js';
import { API_READ_CONNECTIONS, PostgresConnection } from '../../src/store/postgres/connection.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/store/database.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { StoreTimeoutError, StoreUnavailableError, type TargetRecord } from '../../src/store/store.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';
import { expectSameAnswers, historyResult, writeHistory } from '../fixtures/store-history.js';
import { RANDOM_RETENTION, expectSameReads, playRandomLife } from '../fixtures/store-random.js';

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

async function openStore(database: string, over: { now?: () => number; log?: Logger; maxPending?: number; retention?: RetentionConfig } = {}): Promise<PostgresStore> {
  const store = await openPostgresStore({ url: server.urlWithPassword(database), log: over.log ?? quiet, startupTimeoutMs: 5_000, ...over });
  cleanups.push(() => store.close());
  return store;
}

function connection(database: string, readTimeoutMs?: number): PostgresConnection {
  const db = new PostgresConnection({ url: server.urlWithPassword(database), log: quiet, readTimeoutMs });
  cleanups.push(() => db.close());
  return db;
}

const target = (name: string): TargetRecord => ({ name, group: 'vpn-eu', role: 'server', url: `https://${name}.example` });

describe('PostgreSQL migrations', () => {
  it('have the same numbers and names as the SQLite migrations, but for those only one of the two needs', () => {
    const names = (d: string) => readMigrations(d).map((m) => `${m.version}_${m.name}`);
    // Sites: one SQLite file is one instance's, so one site; SQLite needs no such tables.
    const postgresOnly = ['5_sites'];
    // SQLite keeps a WITHOUT ROWID table in key order, so its minute rollups are keyed hour first; PostgreSQL's
    // heap is in no key order, so its key stays.
    const sqliteOnly = ['6_minute_rollups_hour_first'];
    const shared = names(DEFAULT_MIGRATIONS_DIR).filter((name) => !sqliteOnly.includes(name));
    const byVersion = (a: string, b: string) => Number.parseInt(a, 10) - Number.parseInt(b, 10);
    expect(names(POSTGRES_MIGRATIONS_DIR)).toEqual([...shared, ...postgresOnly].sort(byVersion));
    expect(names(DEFAULT_MIGRATIONS_DIR)).toEqual(expect.arrayContaining(sqliteOnly));
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

const PROBES = 3 * 24 * 120; // three days every 30 s
const NOW = T0 + PROBES * 30_000 + 5 * MINUTE;
const RETENTION = { rawMs: 2 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };
const resultAt = (i: number, name: string) => historyResult(T0, i, name);

describe('the PostgreSQL store', () => {
  it('answers exactly as the SQLite store for the same three days of history', { timeout: 120_000 }, async () => {
    const now = () => NOW;
    const sqlite: SqliteStore = openSqliteStore({ path: join(dir, 'same.db'), log: quiet, now, retention: RETENTION });
    cleanups.push(() => sqlite.close());
    const pgStore = await openPostgresStore({ url: server.urlWithPassword(await server.createDatabase()), log: quiet, now, retention: RETENTION });
    cleanups.push(() => pgStore.close());
    await writeHistory(sqlite, T0, PROBES, NOW);
    await writeHistory(pgStore, T0, PROBES, NOW);
    expect(pgStore.writeHealth()).toEqual(sqlite.writeHealth());
    await expectSameAnswers(sqlite, pgStore, T0, NOW);
    const uptime = await pgStore.uptime('rras-1', T0, NOW);
    expect(uptime.probes).toBeGreaterThan(PROBES - 200);
    expect(uptime.failures).toBeGreaterThan(0);
    // retention pruned the raw rows of the first day on both
    expect((await pgStore.history('rras-1', { limit: 1, to: T0 + 10 * HOUR })).items).toEqual([]);
  });

  it('answers as the SQLite store after a random life of late results, same-millisecond rows and housekeeping', { timeout: 180_000 }, async () => {
    let clock = T0;
    const now = () => clock;
    const sqlite = openSqliteStore({ path: join(dir, 'random.db'), log: quiet, now, retention: RANDOM_RETENTION, maxPending: 1_000_000 });
    cleanups.push(() => sqlite.close());
    const pgStore = await openStore(await server.createDatabase(), { now, maxPending: 1_000_000, retention: RANDOM_RETENTION });
    const end = await playRandomLife(sqlite, 1, T0, 5_000, (at) => (clock = at));
    expect(await playRandomLife(pgStore, 1, T0, 5_000, (at) => (clock = at))).toBe(end);
    await expectSameReads(sqlite, pgStore, 1, T0, end);
  });

  it('keeps results queued while PostgreSQL restarts and writes every one of them when it is back', { timeout: 60_000 }, async () => {
    const database = await server.createDatabase();
    const store = await openStore(database);
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', resultAt(0, 'rras-1'));
    await store.flush();
    server.stop();
    try {
      for (let i = 1; i <= 50; i++) store.record('rras-1', 'head', resultAt(i, 'rras-1'));
      await store.flush();
      const down = store.writeHealth();
      expect(down.ok).toBe(false);
      expect(down.reason).toMatch(/^PostgreSQL: /);
      expect(down.pending).toBe(50);
      for (let i = 51; i <= 100; i++) store.record('rras-1', 'head', resultAt(i, 'rras-1'));
      await store.flush();
      expect(store.writeHealth()).toMatchObject({ ok: false, pending: 100, dropped: 0 });
      // a read while the server is away says so (the API turns it into a 503), never a bare driver error
      await expect(store.history('rras-1', { limit: 10 })).rejects.toBeInstanceOf(StoreUnavailableError);
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
    store.record('rras-1', 'head', resultAt(1, 'rras-1'));
    // A status code beyond smallint is stored as NULL rather than refused; a duration beyond integer is clamped.
    store.record('rras-1', 'head', { ...resultAt(2, 'rras-1'), statusCode: 70_000, durationMs: 1e10 });
    store.record('rras-1', 'head', resultAt(3, 'rras-1'));
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    const page = await store.history('rras-1', { limit: 10 });
    expect(page.items).toHaveLength(3);
    expect(page.items[1]).toMatchObject({ statusCode: null, durationMs: 2_147_483.647 });
  });

  it('stores a message with a NUL character (which PostgreSQL text cannot hold) with U+FFFD in its place', async () => {
    const store = await openStore(await server.createDatabase());
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', { ...resultAt(3, 'rras-1'), message: 'bad\u0000status' });
    await store.flush();
    expect((await store.lastResult('rras-1', 'head'))?.message).toBe('bad\uFFFDstatus');
  });

  it('ends an API read at its deadline, running or waiting for a connection, while the writes\' pool goes on', { timeout: 30_000 }, async () => {
    const db = connection(await server.createDatabase(), 500);
    const sleep = { name: 'test_sleep', text: 'SELECT pg_sleep(10)' };
    const started = Date.now();
    // These reads take every one of the reads' connections; one more waits for one, no longer than the deadline either.
    const reads = await Promise.allSettled(Array.from({ length: API_READ_CONNECTIONS + 1 }, () => db.read(sleep)));
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const read of reads) {
      expect(read).toMatchObject({ status: 'rejected', reason: expect.any(StoreTimeoutError) });
      expect((read as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    }
    // The server cancelled them: the reads' connections answer at once. The writes' pool keeps its own, longer timeout.
    expect((await db.read({ name: 'test_one', text: 'SELECT 1 AS one' })).rows).toEqual([{ one: 1 }]);
    expect((await db.query('SELECT 1 AS slept FROM pg_sleep(0.8)')).rows).toEqual([{ slept: 1 }]);
  });
});

// API reads against a real PostgreSQL (test/fixtures/postgres.ts) that cannot answer in time: another session holds
// a table locked. Each read has a deadline of its own (the store's readTimeoutMs, 5 s by default) well before the
// listener's 30 s idle timeout: the client gets 503 `store_unavailable` with Retry-After, never a 500 or a socket
// hang up, the server has cancelled the statement (the connection is free at once), and once the lock goes the same
// request answers.
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/app.js';
import { API_READ_TIMEOUT_MS } from '../../src/store/postgres/connection.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { READY } from '../fixtures/app.js';
import { statusResult, targetConfig, vpnEuGroup } from '../fixtures/domain.js';
import { testMonitor } from '../fixtures/monitor.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';

const log = pino({ level: 'silent' });
const targets = [targetConfig('rras-1')];
const groups = [vpnEuGroup(['rras-1'])];

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.destroy());

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  app: App;
  store: PostgresStore;
  /** A session of its own on the same database, for locks. */
  locker: pg.Client;
}

async function setup(readTimeoutMs?: number): Promise<Setup> {
  const database = await server.createDatabase();
  const store = await openPostgresStore({ url: server.urlWithPassword(database), log, startupTimeoutMs: 10_000, readTimeoutMs, site: 'lan' });
  cleanups.push(() => store.close());
  const monitor = await testMonitor(store, targets, groups);
  const now = Date.now();
  for (let i = 2; i >= 0; i--) monitor.handleResult(targets[0]!, 'head', statusResult(now - i * 1000, 401));
  await store.flush();
  const app = buildApp({ status: monitor, store, registry: new Registry(), log, readiness: () => READY });
  cleanups.push(() => app.close());
  const locker = await server.client(database);
  cleanups.push(() => locker.end());
  return { app, store, locker };
}

/** Statements of the API reads' connections still running (none once the server cancelled them). */
async function busyReads(locker: pg.Client): Promise<number> {
  const { rows } = await locker.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'sstpwatch api reads' AND state = 'active'",
  );
  return Number(rows[0]!.n);
}

describe('an API read the database does not answer in time', () => {
  it.each([
    ['raw history', '/api/v1/targets/rras-1/history'],
    ['minute rollups', '/api/v1/targets/rras-1/history?resolution=1m'],
    ['uptime', '/api/v1/targets/rras-1/uptime?window=1h'],
    ['incidents', '/api/v1/targets/rras-1/incidents'],
  ])('is answered 503 store_unavailable with Retry-After at its deadline (%s), its statement cancelled', { timeout: 30_000 }, async (_what, url) => {
    const { app, locker } = await setup(1_000);
    expect((await app.inject({ url })).statusCode).toBe(200);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE results, rollups_minute, rollups_hour, state_transitions IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const res = await app.inject({ url });
    const tookMs = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ error: { code: 'store_unavailable', message: expect.stringContaining('no answer within 1 s') } });
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(5_000);
    expect(await busyReads(locker)).toBe(0);
    await locker.query('ROLLBACK');
    expect((await app.inject({ url })).statusCode).toBe(200);
  });

  it(`waits ${API_READ_TIMEOUT_MS / 1000} s by default, then answers 503 rather than hanging until the listener's 30 s idle timeout`, { timeout: 30_000 }, async () => {
    const { app, locker } = await setup();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE results IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const res = await app.inject({ url: '/api/v1/targets/rras-1/history' });
    const tookMs = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toContain(`no answer within ${API_READ_TIMEOUT_MS / 1000} s`);
    expect(tookMs).toBeGreaterThanOrEqual(API_READ_TIMEOUT_MS - 100);
    expect(tookMs).toBeLessThan(API_READ_TIMEOUT_MS + 3_000);
    expect(await busyReads(locker)).toBe(0);
    await locker.query('ROLLBACK');
  });

  it('leaves the status list and a target answering from the states last read when the published states cannot be read in time', { timeout: 30_000 }, async () => {
    const { app, locker } = await setup(1_000);
    const before = await app.inject({ url: '/api/v1/status' });
    expect(before.statusCode).toBe(200);
    expect(before.json().targets[0]).toMatchObject({ name: 'rras-1', state: 'up' });
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE target_states IN ACCESS EXCLUSIVE MODE');
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the one read a second
    for (const url of ['/api/v1/status', '/api/v1/targets/rras-1']) {
      const started = Date.now();
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(await busyReads(locker)).toBe(0);
    await locker.query('ROLLBACK');
  });
});

// Rollups and retention as the SQLite store keeps them on disk: rows deleted, packed minute rows, marks, the file
// size. What every store answers about rollups, uptime and retention is in the store contract (contract-history.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetentionConfig } from '../../src/config/types.js';
import type { ErrorKind, ProbeResult } from '../../src/probe/types.js';
import { HOUR_MS, MINUTE_MS } from '../../src/store/rollup.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { HousekeepingStep, RollupPoint } from '../../src/store/store.js';
import { T0 } from '../fixtures/rollup-table.js';

const DAY_MS = 86_400_000;

let dir: string;
let path: string;
const stores: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-history-'));
  path = join(dir, 'sstpwatch.db');
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(retention?: RetentionConfig): Promise<SqliteStore> {
  const store = openSqliteStore({ path, log: pino({ level: 'silent' }), retention, maxPending: 1_000_000 });
  await store.syncTargets([
    { name: 'rras-eu-1', group: 'vpn-eu', role: 'server', url: 'https://rras-eu-1.example' },
    { name: 'rras-eu-2', group: 'vpn-eu', role: 'server', url: 'https://rras-eu-2.example' },
  ]);
  stores.push(store);
  return store;
}

function result(at: number, errorKind: ErrorKind = 'ok', durationMs = 12): ProbeResult {
  return {
    at,
    ok: errorKind === 'ok',
    errorKind,
    message: errorKind === 'ok' ? '' : errorKind,
    statusCode: errorKind === 'ok' ? 401 : null,
    httpVersion: '1.1',
    durationMs,
    phasesMs: {},
    tlsVersion: 'TLSv1.3',
    certificateSha256: null,
    certificate: null,
  };
}

async function housekeep(store: SqliteStore, now: number): Promise<HousekeepingStep[]> {
  const steps: HousekeepingStep[] = [];
  for (let step = await store.housekeepingStep(now); step; step = await store.housekeepingStep(now)) steps.push(step);
  return steps;
}

async function allRollups(store: SqliteStore, target: string, resolution: '1m' | '1h', limit: number): Promise<{ points: RollupPoint[]; pages: number }> {
  const points: RollupPoint[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.rollups(target, resolution, { limit, cursor });
    points.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { points, pages };
}

function count(table: string, where = '1'): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('retention', () => {
  const retention: RetentionConfig = { rawMs: 2 * HOUR_MS, minuteMs: DAY_MS, hourMs: 3 * DAY_MS };

  it('deletes exactly the raw results, minute and hour rollups and transitions older than their periods, in bounded steps', async () => {
    const store = await openStore(retention);
    const now = T0 + 4 * DAY_MS + 30 * MINUTE_MS + 5_000;
    for (const target of ['rras-eu-1', 'rras-eu-2']) {
      for (let at = T0; at < now; at += 30_000) store.record(target, 'head', result(at));
      for (let day = 0; day < 4; day++) {
        store.recordTransition({ target, at: T0 + day * DAY_MS + 1, from: 'up', to: 'down', cause: 'timeout', message: 'x' });
        store.recordTransition({ target, at: T0 + day * DAY_MS + 2, from: 'down', to: 'up', cause: 'ok', message: '' });
      }
    }
    await store.flush();
    const before = count('results');
    const steps = await housekeep(store, now);

    expect(count('results')).toBe(count('results', `at >= ${now - retention.rawMs}`));
    expect(count('results')).toBe(2 * Math.ceil(retention.rawMs / 30_000)); // the last 2 h, every 30 s
    expect(before - count('results')).toBe(steps.filter((s) => s.task === 'prune_raw').reduce((n, s) => n + s.rows, 0));
    // minute rollups are packed by the hour and go a whole hour at a time: kept from the hour of now - 1 d
    // (3 d 00:00) up to the last minute rolled up (4 d 00:28, the minute that ended more than the 10 s grace
    // ago): 25 packed hours, 24 h 29 min of minutes, per target
    expect(count('rollups_minute', `hour < ${T0 + 3 * DAY_MS}`)).toBe(0);
    expect(count('rollups_minute')).toBe(2 * 25);
    const minutes = (await allRollups(store, 'rras-eu-1', '1m', 10_000)).points;
    expect(minutes).toHaveLength(24 * 60 + 29);
    expect(minutes.at(-1)!.at).toBe(T0 + 3 * DAY_MS);
    expect(count('rollups_hour', `bucket < ${now - retention.hourMs}`)).toBe(0);
    // kept: hours from 1 d 01:00 (the first at or after now - 3 d) to 3 d 23:00 (the last whole hour): 71 per target
    expect(count('rollups_hour')).toBe(2 * (3 * 24 - 1));
    // transitions: those of days 2 and 3 (day 1's came just before now - 3 d), two a day, per target
    expect(count('state_transitions')).toBe(2 * 2 * 2);
    expect(count('state_transitions', `at < ${now - retention.hourMs}`)).toBe(0);
    // every step is one bounded transaction
    for (const step of steps.filter((s) => s.task.startsWith('prune'))) expect(step.rows).toBeLessThanOrEqual(2_000);
    expect(steps.filter((s) => s.task === 'prune_raw').length).toBeGreaterThan(2);
    // a second pass has nothing left to delete
    expect((await housekeep(store, now)).filter((s) => s.task.startsWith('prune')).every((s) => s.rows === 0)).toBe(true);
  });

  it('never deletes raw results that are not rolled up yet, and keeps the newest transition of a quiet target', async () => {
    const store = await openStore(retention);
    for (let at = T0; at < T0 + 6 * HOUR_MS; at += 30_000) store.record('rras-eu-1', 'head', result(at));
    store.recordTransition({ target: 'rras-eu-1', at: T0, from: 'unknown', to: 'up', cause: 'ok', message: '' });
    await store.flush();
    // Prune only: no rollup has run at this time yet, so raw results stay whatever their age.
    const db = new Database(path);
    db.prepare("DELETE FROM housekeeping_marks").run();
    db.close();
    const fresh = await openStore(retention);
    // the minute mark is set from the first result; at "now" = T0 + 10 d both marks are behind
    const steps: HousekeepingStep[] = [];
    for (let i = 0; i < 3; i++) {
      const step = await fresh.housekeepingStep(T0 + 10 * DAY_MS);
      if (step) steps.push(step);
    }
    expect(steps.every((s) => s.task === 'rollup_minute')).toBe(true);
    expect(count('results')).toBe(6 * 120);
    await housekeep(fresh, T0 + 10 * DAY_MS);
    expect(count('results')).toBe(0);
    expect(count('rollups_minute')).toBe(0); // older than a day
    expect(count('rollups_hour')).toBe(0);
    expect(count('state_transitions')).toBe(1); // the state to restore
  });

  it('keeps the database file from growing once retention deletes as much as probing adds', async () => {
    const small: RetentionConfig = { rawMs: HOUR_MS, minuteMs: 2 * HOUR_MS, hourMs: 4 * HOUR_MS };
    const store = await openStore(small);
    const targets = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, group: 'g', role: 'server' as const, url: `https://t${i}.example` }));
    await store.syncTargets(targets);
    const pages: number[] = [];
    const db = new Database(path, { readonly: true });
    try {
      for (let at = T0; at < T0 + 12 * HOUR_MS; at += 10_000) {
        for (const t of targets) store.record(t.name, 'head', result(at));
        if ((at - T0) % (5 * MINUTE_MS) === 0) {
          await store.flush();
          await housekeep(store, at);
        }
        if ((at - T0) % HOUR_MS === 0) pages.push(db.pragma('page_count', { simple: true }) as number);
      }
    } finally {
      db.close();
    }
    const atSix = pages[6]!;
    const atTwelve = pages[11]!;
    expect(atTwelve).toBeLessThanOrEqual(atSix * 1.1);
  });
});

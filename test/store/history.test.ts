import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetentionConfig } from '../../src/config/types.js';
import type { ErrorKind, ProbeResult } from '../../src/probe/types.js';
import { HOUR_MS, MINUTE_MS, type RawSample } from '../../src/store/rollup.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { HousekeepingStep, RollupPoint, UptimeExclusion } from '../../src/store/store.js';
import { HOUR, MINUTES, SAMPLES, T0 } from '../fixtures/rollup-table.js';

const DAY_MS = 86_400_000;
const KIND_BY_CODE: Record<number, ErrorKind> = { 0: 'ok', 4: 'timeout', 6: 'connect_refused' };
const EXCLUSION_BY_CODE: Record<number, UptimeExclusion> = { 0: null, 1: 'maintenance', 2: 'unknown' };

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

async function close(store: SqliteStore): Promise<void> {
  await store.close();
  stores.splice(stores.indexOf(store), 1);
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

function recordSample(store: SqliteStore, target: string, s: RawSample): void {
  store.record(target, 'head', result(s.at, KIND_BY_CODE[s.errorKind]!, s.durationUs / 1000), EXCLUSION_BY_CODE[s.excluded]);
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

const asPoint = (b: (typeof MINUTES)[number]): RollupPoint => ({
  at: b.bucket,
  probes: b.probes,
  failures: b.failures,
  avgMs: Math.round(b.sumUs / b.probes) / 1000,
  maxMs: b.maxUs / 1000,
  p95Ms: b.p95Us / 1000,
});

function count(table: string, where = '1'): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('rollups in the database', () => {
  it('match the hand-computed table, for a minute whose results were written on both sides of a restart', async () => {
    let store = await openStore();
    const firstHalf = SAMPLES.filter((s) => s.at < T0 + 30_000); // 21:00:05 and 21:00:20
    for (const s of firstHalf) recordSample(store, 'rras-eu-1', s);
    await store.flush();
    // The minute 21:00 is not over yet: nothing of it is rolled up before the restart.
    await housekeep(store, T0 + 30_000);
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items).toEqual([]);
    await close(store);

    store = await openStore();
    for (const s of SAMPLES.filter((s) => s.at >= T0 + 30_000)) recordSample(store, 'rras-eu-1', s);
    await store.flush();
    await housekeep(store, T0 + HOUR_MS + 20_000);
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items).toEqual([...MINUTES].reverse().map(asPoint));
    expect((await store.rollups('rras-eu-1', '1h', { limit: 10 })).items).toEqual([asPoint(HOUR)]);
    expect((await store.rollups('rras-eu-2', '1m', { limit: 10 })).items).toEqual([]);
  });

  it('roll up only whole buckets, a little after they end, and never the same rows twice', async () => {
    const store = await openStore();
    for (const s of SAMPLES) recordSample(store, 'rras-eu-1', s);
    await store.flush();
    await housekeep(store, T0 + 2 * MINUTE_MS + 5_000); // 21:02:05: 21:01 ended 5 s ago, within the grace
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items.map((p) => p.at)).toEqual([T0]);
    await housekeep(store, T0 + 4 * MINUTE_MS + 11_000);
    await housekeep(store, T0 + 4 * MINUTE_MS + 12_000);
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items).toEqual([...MINUTES].reverse().map(asPoint));
    expect((await store.rollups('rras-eu-1', '1h', { limit: 10 })).items).toEqual([]);
  });

  it('roll a bucket up again when results older than the rollup mark are written late (after a database outage)', async () => {
    const store = await openStore();
    store.record('rras-eu-1', 'head', result(T0 + 1_000, 'ok', 10));
    await store.flush();
    await housekeep(store, T0 + 2 * MINUTE_MS);
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 1, failures: 0 }]);
    store.record('rras-eu-1', 'head', result(T0 + 31_000, 'timeout', 5000));
    await store.flush();
    await housekeep(store, T0 + 2 * MINUTE_MS + 1_000);
    expect((await store.rollups('rras-eu-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 2, failures: 1, maxMs: 5000 }]);
  });
});

describe('pagination over rollups', () => {
  it.each([
    ['1m', 7],
    ['1h', 5],
  ] as const)('walks every %s bucket newest first, %i at a time, without gaps or repeats', async (resolution, limit) => {
    const store = await openStore();
    for (let at = T0; at < T0 + 2 * DAY_MS; at += 30_000) store.record('rras-eu-1', 'head', result(at, at % 7 === 0 ? 'timeout' : 'ok'));
    await store.flush();
    await housekeep(store, T0 + 2 * DAY_MS + MINUTE_MS);
    const bucketMs = resolution === '1m' ? MINUTE_MS : HOUR_MS;
    const expected = Array.from({ length: (2 * DAY_MS) / bucketMs }, (_, i) => T0 + 2 * DAY_MS - (i + 1) * bucketMs);
    const { points, pages } = await allRollups(store, 'rras-eu-1', resolution, limit);
    expect(points.map((p) => p.at)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / limit));
    expect(points.reduce((n, p) => n + p.probes, 0)).toBe(2 * 2880);
    // from/to select by bucket start, inclusive; a cursor of another resolution is refused
    const window = await store.rollups('rras-eu-1', resolution, { from: T0 + bucketMs, to: T0 + 3 * bucketMs, limit: 100 });
    expect(window.items.map((p) => p.at)).toEqual([T0 + 3 * bucketMs, T0 + 2 * bucketMs, T0 + bucketMs]);
    const rawCursor = (await store.history('rras-eu-1', { limit: 1 })).nextCursor!;
    await expect(store.rollups('rras-eu-1', resolution, { limit: 1, cursor: rawCursor })).rejects.toThrow(/invalid cursor/);
  });
});

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

describe('uptime', () => {
  it('counts only results that count, and answers the same from rollups as from raw, also once raw is gone', async () => {
    const retention: RetentionConfig = { rawMs: 2 * HOUR_MS, minuteMs: 40 * DAY_MS, hourMs: 100 * DAY_MS };
    const store = await openStore(retention);
    const now = T0 + 31 * DAY_MS + 17 * MINUTE_MS + 3_000;
    let expected = { probes: 0, failures: 0 };
    const from = now - 30 * DAY_MS;
    for (let at = T0; at < now; at += 60_000) {
      const day = Math.floor((at - T0) / DAY_MS);
      const exclusion: UptimeExclusion = day === 3 ? 'maintenance' : day === 0 ? 'unknown' : null;
      const kind: ErrorKind = (at / 60_000) % 10 === 0 ? 'timeout' : 'ok';
      store.record('rras-eu-1', 'head', result(at, kind), exclusion);
      if (at >= from && exclusion === null) {
        expected = { probes: expected.probes + 1, failures: expected.failures + (kind === 'ok' ? 0 : 1) };
      }
    }
    await store.flush();
    expect(await store.uptime('rras-eu-1', from, now + 1)).toEqual(expected); // all raw: nothing rolled up yet
    await housekeep(store, now);
    expect(count('results', `at < ${now - 3 * HOUR_MS}`)).toBe(0); // raw is gone...
    expect(await store.uptime('rras-eu-1', from, now + 1)).toEqual(expected); // ...and the answer is the same
    expect(await store.uptime('rras-eu-2', from, now + 1)).toEqual({ probes: 0, failures: 0 });
  });
});

// A database written by sstpwatch 0.1.0 (test/fixtures/upgrade/make-v0.1.0-db.ts ran on that release's code)
// opens under this version, is migrated, and still holds every result, rollup, incident and maintenance window.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/store/migrate.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/store/database.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { StoredResult } from '../../src/store/store.js';

const FIXTURE = new URL('../fixtures/upgrade/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('v0.1.0.expected.json', FIXTURE), 'utf8')) as Expected;

interface Expected {
  window: { from: number; to: number };
  targets: Record<string, {
    results: { count: number; sha256: string; newest: unknown; oldest: unknown };
    minuteRollups: { count: number; sha256: string };
    hourRollups: { count: number; sha256: string };
    uptime: unknown;
    transitions: unknown[];
    maintenance: unknown;
    lastSstp: unknown;
  }>;
}

/** The fields 0.1.0 read back; a later version may add fields beside them, never change these. */
function project(r: StoredResult) {
  return {
    at: r.at, ok: r.ok, errorKind: r.errorKind, message: r.message, statusCode: r.statusCode, httpVersion: r.httpVersion,
    durationMs: r.durationMs, phasesMs: r.phasesMs, tlsVersion: r.tlsVersion, certificateSha256: r.certificateSha256,
  };
}
const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const ALL = { from: 0, to: Date.UTC(2031, 0, 1), limit: 10_000 };

let dir: string;
let path: string;
let store: SqliteStore | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-upgrade-'));
  path = join(dir, 'sstpwatch.db');
  copyFileSync(new URL('v0.1.0.db', FIXTURE), path);
});

afterEach(async () => {
  await store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

function openWithThisVersion(): SqliteStore {
  // "now" stays inside the fixture's window, so nothing is pruned as too old while the test reads.
  store = openSqliteStore({ path, log: pino({ level: 'silent' }), now: () => expected.window.to });
  return store;
}

describe('upgrading a database written by sstpwatch 0.1.0', () => {
  it('migrates it to the newest schema this version ships', async () => {
    await openWithThisVersion().close();
    store = null;
    const db = new Database(path, { readonly: true });
    const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    db.close();
    expect(versions).toEqual(readMigrations(DEFAULT_MIGRATIONS_DIR).map((m) => m.version));
  });

  it('keeps every raw result of every target, field for field', async () => {
    const s = openWithThisVersion();
    for (const [target, want] of Object.entries(expected.targets)) {
      const results = (await s.history(target, ALL)).items.map(project);
      expect({ target, count: results.length, newest: results[0], oldest: results.at(-1) })
        .toEqual({ target, count: want.results.count, newest: want.results.newest, oldest: want.results.oldest });
      expect(sha256(results), `${target}: results differ from what 0.1.0 read`).toBe(want.results.sha256);
    }
  });

  it('keeps the minute and hour rollups and the uptime they give', async () => {
    const s = openWithThisVersion();
    for (const [target, want] of Object.entries(expected.targets)) {
      const minutes = (await s.rollups(target, '1m', ALL)).items.map(({ at, probes, failures, avgMs, maxMs, p95Ms }) => ({ at, probes, failures, avgMs, maxMs, p95Ms }));
      const hours = (await s.rollups(target, '1h', ALL)).items.map(({ at, probes, failures, avgMs, maxMs, p95Ms }) => ({ at, probes, failures, avgMs, maxMs, p95Ms }));
      expect({ target, minutes: minutes.length, hours: hours.length }).toEqual({ target, minutes: want.minuteRollups.count, hours: want.hourRollups.count });
      expect(sha256(minutes)).toBe(want.minuteRollups.sha256);
      expect(sha256(hours)).toBe(want.hourRollups.sha256);
      expect(await s.uptime(target, expected.window.from, expected.window.to + 60_000)).toEqual(want.uptime);
    }
  });

  it('keeps every state transition, so every incident with its cause and message', async () => {
    const s = openWithThisVersion();
    for (const [target, want] of Object.entries(expected.targets)) {
      expect(await s.transitionsBetween(target, 0, ALL.to)).toEqual(want.transitions);
    }
    const downs = Object.values(expected.targets).flatMap((t) => t.transitions).filter((t) => (t as { to: string }).to === 'down');
    expect(downs).toHaveLength(2); // the fixture's two incidents: rras-eu-2 refused, the VIP answered 404
  });

  it('keeps the maintenance windows set through the API', async () => {
    const s = openWithThisVersion();
    expect(await s.maintenance('vpn-eu-vip')).toEqual({ until: Date.UTC(2027, 0, 15, 6), reason: 'load balancer replacement' });
    expect(await s.maintenance('rras-us-1')).toEqual({ until: Date.UTC(2030, 0, 1), reason: 'decommissioning, keep history' });
    for (const [target, want] of Object.entries(expected.targets)) expect(await s.maintenance(target)).toEqual(want.maintenance);
  });

  it('keeps the deep SSTP checks', async () => {
    const s = openWithThisVersion();
    const last = await s.lastResult('rras-eu-1', 'sstp');
    // 0.1.0 knew neither an answering Call Abort nor a warning: its rows read as none of either.
    const before = expected.targets['rras-eu-1']!.lastSstp as { sstp: object };
    expect(last && { ...project(last), sstp: last.sstp }).toEqual({ ...before, sstp: { ...before.sstp, abortSent: false, warning: null } });
  });

  it('goes on recording into the upgraded database', async () => {
    const s = openWithThisVersion();
    const at = expected.window.to + 1_000;
    s.record('rras-eu-1', 'head', { ...(expected.targets['rras-eu-1']!.results.newest as StoredResult), at, certificate: null });
    await s.flush();
    expect(s.writeHealth().ok).toBe(true);
    expect((await s.lastResult('rras-eu-1', 'head'))?.at).toBe(at);
    expect((await s.history('rras-eu-1', ALL)).items).toHaveLength(expected.targets['rras-eu-1']!.results.count + 1);
  });
});

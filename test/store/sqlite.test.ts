import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_KINDS, type ProbeResult } from '../../src/probe/types.js';
import { ERROR_KIND_CODES } from '../../src/store/codes.js';
import { openDatabase } from '../../src/store/database.js';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite.js';
import type { TargetRecord } from '../../src/store/store.js';
import { allHistory, stored, transition } from './contract-support.js';

const T0 = Date.parse('2026-11-26T21:00:00.000Z');
const SHA_A = 'AB'.repeat(32);
const SHA_B = 'CD'.repeat(32);

let dir: string;
let path: string;
let logs: { level: number; msg: string; target?: string }[];
const stores: SqliteStore[] = [];
const connections: Database.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-store-'));
  path = join(dir, 'data', 'sstpwatch.db');
  logs = [];
});

afterEach(async () => {
  for (const db of connections.splice(0)) if (db.open) db.close();
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function capturingLogger(): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
}

function openStore(options: Partial<SqliteStoreOptions> = {}): SqliteStore {
  const store = openSqliteStore({ path, log: capturingLogger(), ...options });
  stores.push(store);
  return store;
}

/** A second connection to the same file, as another process would have. */
function connect(): Database.Database {
  const db = new Database(path);
  connections.push(db);
  return db;
}

function target(name: string, over: Partial<TargetRecord> = {}): TargetRecord {
  return { name, group: 'vpn-eu', role: 'server', url: `https://${name}.example`, ...over };
}

function okResult(at: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    at,
    ok: true,
    errorKind: 'ok',
    message: '',
    statusCode: 401,
    httpVersion: '1.1',
    durationMs: 12.4,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 5.7 },
    tlsVersion: 'TLSv1.3',
    certificateSha256: SHA_A,
    certificate: null,
    ...over,
  };
}

function failedResult(at: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    at,
    ok: false,
    errorKind: 'connect_refused',
    message: 'connect ECONNREFUSED 10.0.0.11:443',
    statusCode: null,
    httpVersion: null,
    durationMs: 0.873,
    phasesMs: { dns: 0.012, connect: 0.861 },
    tlsVersion: null,
    certificateSha256: null,
    certificate: null,
    ...over,
  };
}

/** Makes every write of results fail, from another connection (root ignores file permissions). */
function breakResultWrites(): () => void {
  const db = connect();
  db.exec("CREATE TRIGGER break_results BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  return () => db.exec('DROP TRIGGER break_results');
}

describe('opening', () => {
  it('creates the directory and the file, in WAL mode with foreign keys and incremental auto_vacuum', () => {
    const db = openDatabase(path);
    connections.push(db);
    expect(existsSync(path)).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
  });

  it("gives SQLite's page cache 32 MiB unless asked for another size (a benchmark's)", () => {
    const db = openDatabase(path);
    connections.push(db);
    expect(db.pragma('cache_size', { simple: true })).toBe(-32768);
    const small = openDatabase(join(dirname(path), 'small.db'), { cacheKiB: 2048 });
    connections.push(small);
    expect(small.pragma('cache_size', { simple: true })).toBe(-2048);
  });

  it('answers history from the (target, at) primary key, without a sort', () => {
    const db = openDatabase(path);
    connections.push(db);
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT at FROM results WHERE target_id = 1 AND at BETWEEN 0 AND 9 ORDER BY at DESC LIMIT 8')
      .all() as { detail: string }[];
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/SEARCH results USING PRIMARY KEY \(target_id=\? AND at>\? AND at<\?\)/);
    expect(plan.map((row) => row.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
  });
});

describe('error kind codes', () => {
  it('give every error kind its own code, ok being 0', () => {
    const codes = ERROR_KINDS.map((kind) => ERROR_KIND_CODES[kind]);
    expect(new Set(codes).size).toBe(ERROR_KINDS.length);
    expect(ERROR_KIND_CODES.ok).toBe(0);
  });
});

describe('writing and reading results', () => {
  it('round-trips every field of ok and failed results, in one batch', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    const results = [
      okResult(T0, {
        certificate: { subject: 'CN=vpn', issuer: 'CN=ca', san: ['vpn'], notBefore: 0, notAfter: 1, sha256: SHA_A, keyType: 'RSA', keyBits: 2048 },
      }),
      okResult(T0 + 30_000, { httpVersion: '1.0', tlsVersion: 'TLSv1.2', durationMs: 1234.567, certificateSha256: SHA_B }),
      failedResult(T0 + 60_000),
      failedResult(T0 + 90_000, {
        errorKind: 'unexpected_status',
        message: 'expected 401, got 404',
        statusCode: 404,
        httpVersion: '1.1',
        phasesMs: { dns: 0, connect: 0.4, tls: 6.2, processing: 5.7 },
        tlsVersion: 'TLSv1.3',
        certificateSha256: SHA_A,
      }),
      failedResult(T0 + 120_000, { errorKind: 'http_version', message: 'not HTTP/1.1', statusCode: 200, httpVersion: '3.7', tlsVersion: 'unknown' }),
      failedResult(T0 + 150_000, { errorKind: 'dns', message: 'getaddrinfo ENOTFOUND vpn3', durationMs: 0, phasesMs: {} }),
      failedResult(T0 + 180_000, { errorKind: 'cert_hostname_mismatch', message: 'no SAN vpn.example.com', phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2 }, tlsVersion: 'TLSv1.3', certificateSha256: SHA_B }),
    ];
    for (const result of results) store.record('rras-1', 'head', result);
    expect((await store.history('rras-1', { limit: 100 })).items).toEqual([]); // nothing is written before flush()
    await store.flush();

    const page = await store.history('rras-1', { limit: 100 });
    expect(page.items).toEqual(results.map(stored).reverse());
    expect(page.nextCursor).toBeNull();
    expect(await store.lastResult('rras-1', 'head')).toEqual(stored(results.at(-1)!));
    expect(store.writeHealth()).toEqual({ ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 });
  });

  it("stores an ok result's standard status line as NULL and rebuilds it on read; any other message as is", async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    const results = [
      okResult(T0, { message: 'HTTP/1.1 401 Unauthorized' }),
      okResult(T0 + 1, { message: 'HTTP/1.1 401 Access Denied' }), // a reason phrase of its own
      okResult(T0 + 2, { message: '' }),
      okResult(T0 + 3, { message: 'HTTP/1.0 200 OK', statusCode: 200, httpVersion: '1.0' }),
      okResult(T0 + 4, { message: 'HTTP/1.1 401 Unauthorized', statusCode: null }),
      okResult(T0 + 5, { message: 'HTTP/9 401 Unauthorized', httpVersion: '9' }),
      failedResult(T0 + 6, { errorKind: 'unexpected_status', message: 'HTTP/1.1 404 Not Found', statusCode: 404, httpVersion: '1.1' }),
      failedResult(T0 + 7, { message: '' }),
    ];
    for (const result of results) store.record('rras-1', 'head', result);
    await store.flush();
    expect((await store.history('rras-1', { limit: 100 })).items).toEqual(results.map(stored).reverse());
    const messages = connect().prepare('SELECT message FROM results ORDER BY at').all().map((r) => (r as { message: string | null }).message);
    expect(messages).toEqual([
      null, 'HTTP/1.1 401 Access Denied', '', null, 'HTTP/1.1 401 Unauthorized', null, 'HTTP/1.1 404 Not Found', '',
    ]);
  });

  it('reads a NULL message of a row written before that rule as empty for a failed result', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', failedResult(T0, { message: 'x' }));
    await store.flush();
    connect().prepare('UPDATE results SET message = NULL').run();
    expect((await store.lastResult('rras-1', 'head'))?.message).toBe('');
  });

  it('stores the usual HTTP and TLS versions as integer codes, anything else as text', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', okResult(T0));
    store.record('rras-1', 'head', okResult(T0 + 1, { httpVersion: '1.0', tlsVersion: 'TLSv1.2' }));
    store.record('rras-1', 'head', okResult(T0 + 2, { httpVersion: 'HTTP/9', tlsVersion: 'unknown' }));
    await store.flush();
    const rows = connect()
      .prepare('SELECT typeof(http_version) AS http, typeof(tls_version) AS tls, typeof(at) AS at FROM results ORDER BY at')
      .all();
    expect(rows).toEqual([
      { http: 'integer', tls: 'integer', at: 'integer' },
      { http: 'integer', tls: 'integer', at: 'integer' },
      { http: 'text', tls: 'text', at: 'integer' },
    ]);
    expect((await store.history('rras-1', { limit: 3 })).items.map((r) => [r.httpVersion, r.tlsVersion])).toEqual([
      ['HTTP/9', 'unknown'],
      ['1.0', 'TLSv1.2'],
      ['1.1', 'TLSv1.3'],
    ]);
  });

  it('keeps durations to the microsecond', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', okResult(T0, { durationMs: 12.3456, phasesMs: { dns: 0.0004, connect: 0.0006 } }));
    await store.flush();
    expect(await store.lastResult('rras-1', 'head')).toMatchObject({ durationMs: 12.346, phasesMs: { dns: 0, connect: 0.001 } });
  });

  it('stores each certificate hash once', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1'), target('rras-2')]);
    for (let i = 0; i < 10; i++) {
      store.record('rras-1', 'head', okResult(T0 + i * 30_000));
      store.record('rras-2', 'head', okResult(T0 + i * 30_000, { certificateSha256: i < 5 ? SHA_A : SHA_B }));
      if (i % 3 === 0) await store.flush();
    }
    await store.flush();
    expect(connect().prepare('SELECT sha256 FROM certificates ORDER BY sha256').pluck().all()).toEqual([SHA_A, SHA_B]);
    expect((await store.lastResult('rras-2', 'head'))?.certificateSha256).toBe(SHA_B);
  });

  it('shows what was written to a new connection after close, and leaves no WAL behind', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    store.record('rras-1', 'head', okResult(T0));
    await store.close(); // flushes
    await store.close(); // idempotent
    expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
    const reopened = openStore();
    expect(await reopened.lastResult('rras-1', 'head')).toEqual(stored(okResult(T0)));
  });

  it('never throws from record() and flush(), even after close or for a malformed result', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    expect(() => store.record('rras-1', 'head', okResult(T0, { errorKind: 'bogus' as never }))).not.toThrow();
    expect(() => store.record('rras-1', 'head', okResult(Number.NaN, { durationMs: Number.POSITIVE_INFINITY }))).not.toThrow();
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    expect(logs.some((l) => l.msg === 'result could not be queued; dropped')).toBe(true);
    await store.close();
    expect(() => store.record('rras-1', 'head', okResult(T0 + 1))).not.toThrow();
    await expect(store.flush()).resolves.toBeUndefined();
  });
});

describe('targets', () => {
  it('drops results for a target it does not know, warning once per target', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    store.record('nobody', 'head', okResult(T0));
    store.record('nobody', 'head', okResult(T0 + 1));
    expect(store.writeHealth().pending).toBe(0);
    expect(logs.filter((l) => l.level === 40 && l.target === 'nobody')).toHaveLength(1);
  });

  it('keeps the history of a target no longer configured, and updates a changed target', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1'), target('rras-2')]);
    store.record('rras-2', 'head', okResult(T0));
    await store.flush();
    await store.syncTargets([target('rras-1', { url: 'http://10.0.0.11:80', group: 'vpn-us', role: 'vip' })]);
    expect((await store.history('rras-2', { limit: 10 })).items).toHaveLength(1);
    expect(connect().prepare("SELECT group_name, role, url FROM targets WHERE name = 'rras-1'").get()).toEqual({
      group_name: 'vpn-us',
      role: 'vip',
      url: 'http://10.0.0.11:80',
    });
  });
});

describe('when the database cannot be written', () => {
  it('keeps rows queued, reports why, drops the oldest beyond maxPending, and recovers', async () => {
    const store = openStore({ maxPending: 5 });
    await store.syncTargets([target('rras-1')]);
    const repair = breakResultWrites();
    for (let i = 0; i < 8; i++) store.record('rras-1', 'head', okResult(T0 + i * 1000));
    store.recordTransition(transition(T0 + 7000));
    await store.flush();
    await store.flush();
    expect(store.writeHealth()).toEqual({ ok: false, reason: expect.stringMatching(/disk on fire/), pending: 5, dropped: 3, failedWrites: 2 });
    expect(await store.lastTransition('rras-1')).toBeNull(); // one transaction: the transition was not written either
    expect(logs.filter((l) => l.msg === 'database write failed; rows stay queued')).toHaveLength(1);

    repair();
    await store.flush();
    expect(store.writeHealth()).toEqual({ ok: true, reason: null, pending: 0, dropped: 3, failedWrites: 2 });
    expect((await store.history('rras-1', { limit: 100 })).items.map((r) => r.at)).toEqual([7, 6, 5, 4, 3].map((i) => T0 + i * 1000));
    expect(await store.lastTransition('rras-1')).toEqual(transition(T0 + 7000));
  });

  it('keeps exactly the newest maxPending results over a long outage', async () => {
    const store = openStore({ maxPending: 1000 });
    await store.syncTargets([target('rras-1')]);
    const repair = breakResultWrites();
    for (let i = 0; i < 5000; i++) {
      store.record('rras-1', 'head', okResult(T0 + i));
      if (i % 100 === 0) await store.flush();
    }
    expect(store.writeHealth()).toMatchObject({ ok: false, pending: 1000, dropped: 4000 });
    repair();
    await store.flush();
    const ats = (await allHistory(store, 'rras-1', { limit: 10_000 })).flat().map((r) => r.at);
    expect(ats).toEqual(Array.from({ length: 1000 }, (_, i) => T0 + 4999 - i));
  });

  it('does not keep certificate ids of a rolled-back write', async () => {
    const store = openStore();
    await store.syncTargets([target('rras-1')]);
    const db = connect();
    db.exec("CREATE TRIGGER break_transitions BEFORE INSERT ON state_transitions BEGIN SELECT RAISE(ABORT, 'no'); END");
    store.record('rras-1', 'head', okResult(T0, { certificateSha256: SHA_B }));
    store.recordTransition(transition(T0));
    await store.flush(); // the certificate row is inserted, then rolled back
    expect(store.writeHealth().ok).toBe(false);
    db.exec('DROP TRIGGER break_transitions');
    await store.flush();
    store.record('rras-1', 'head', okResult(T0 + 1000, { certificateSha256: SHA_B }));
    await store.flush();
    expect(store.writeHealth().ok).toBe(true);
    expect((await store.lastResult('rras-1', 'head'))?.certificateSha256).toBe(SHA_B);
  });
});

describe('size on disk', () => {
  /** Deterministic pseudo-random numbers (mulberry32). */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function realisticResult(at: number, next: () => number): ProbeResult {
    const ms = (low: number, high: number) => Math.round((low + next() * (high - low)) * 1000) / 1000;
    const phasesMs = { dns: ms(0.02, 0.3), connect: ms(0.2, 3), tls: ms(3, 15), processing: ms(1, 20) };
    const durationMs = Math.round((phasesMs.dns + phasesMs.connect + phasesMs.tls + phasesMs.processing) * 1000) / 1000;
    if (next() < 0.01) return failedResult(at, { errorKind: 'timeout', message: 'no answer within 5000 ms', durationMs: 5000 });
    return okResult(at, { durationMs, phasesMs, message: 'HTTP/1.1 401 Unauthorized' }); // what the HEAD probe reports
  }

  it('stays under 64 bytes per raw result (100 targets x 2,000 results)', async () => {
    const targets = 100;
    const rounds = 2000;
    const store = openStore({ log: pino({ level: 'silent' }) });
    await store.syncTargets(Array.from({ length: targets }, (_, t) => target(`rras-${t}`)));
    const next = random(42);
    for (let round = 0; round < rounds; round++) {
      for (let t = 0; t < targets; t++) store.record(`rras-${t}`, 'head', realisticResult(T0 + round * 30_000 + t * 7, next));
      if (round % 10 === 9) await store.flush();
    }
    await store.close();
    const bytes = statSync(path).size;
    const perResult = bytes / (targets * rounds);
    console.log(`store size: ${bytes} bytes for ${targets * rounds} results = ${perResult.toFixed(1)} bytes/result`);
    expect(perResult).toBeLessThan(64); // the budget at 10,000 targets; measured ~41
  });
});

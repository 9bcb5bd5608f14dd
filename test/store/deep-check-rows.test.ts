// The deep SSTP check's results as one more kind of row, on SQLite and on a real PostgreSQL 15: queued and written
// with the HEAD results, read back by kind, never in the HEAD history or uptime, and pruned by housekeeping.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probe/types.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { HousekeepingStep, Store } from '../../src/store/store.js';
import { probeResult } from '../fixtures/domain.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const RETENTION = { rawMs: 2 * DAY, minuteMs: 90 * DAY, hourMs: 400 * DAY };
const quiet = pino({ level: 'silent' });

let server: TestPostgres;
let dir: string;
const stores: Store[] = [];

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-deep-rows-'));
});

afterAll(() => {
  server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

const engines: [string, () => Promise<Store>][] = [
  ['SQLite', async () => openSqliteStore({ path: join(dir, `${stores.length}-${Date.now()}.db`), log: quiet, now: () => NOW, retention: RETENTION })],
  ['PostgreSQL', async () => openPostgresStore({ url: server.urlWithPassword(await server.createDatabase()), log: quiet, now: () => NOW, retention: RETENTION, startupTimeoutMs: 5_000 })],
];

function deepCheck(at: number, reply: 'ack' | 'nak'): ProbeResult {
  return {
    ...probeResult(at, reply === 'ack', { kind: 'sstp_nak', message: 'Call Connect Nak' }),
    statusCode: 200,
    sstp: {
      stageReached: reply === 'ack' ? 'disconnect_ack' : 'call_reply',
      reply,
      stagesMs: { http: 3, call: 4, disconnect: reply === 'ack' ? 2 : undefined },
      hashBitmask: reply === 'ack' ? 2 : null,
      status: reply === 'nak' ? { code: 4, attributeId: 3 } : null,
      disconnectSent: reply === 'ack',
      disconnectAcked: reply === 'ack',
      abortSent: false,
      warning: null,
      correlationId: '{6B2A8F0C-1D3E-4A5B-9C7D-0E1F2A3B4C5D}',
    },
  };
}

async function pass(store: Store, now: number): Promise<HousekeepingStep[]> {
  const steps: HousekeepingStep[] = [];
  for (let step = await store.housekeepingStep(now); step; step = await store.housekeepingStep(now)) steps.push(step);
  return steps;
}

const prunedRows = (steps: HousekeepingStep[]) => steps.filter((s) => s.task === 'prune_sstp_checks').reduce((n, s) => n + s.rows, 0);

describe.each(engines)('deep check rows on %s', (_, open) => {
  async function openStore(): Promise<Store> {
    const store = await open();
    stores.push(store);
    await store.syncTargets([{ name: 'rras-1', group: 'vpn-eu', role: 'server', url: 'https://rras-1.example' }]);
    return store;
  }

  it('are written with the HEAD results, read back by kind, and never counted as HEAD results', async () => {
    const store = await openStore();
    store.record('rras-1', 'head', probeResult(NOW - 60_000, true));
    store.record('rras-1', 'sstp', deepCheck(NOW - 30_000, 'nak'));
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    expect(await store.lastResult('rras-1', 'sstp')).toMatchObject({
      at: NOW - 30_000,
      errorKind: 'sstp_nak',
      sstp: { reply: 'nak', stageReached: 'call_reply', status: { code: 4, attributeId: 3 } },
    });
    expect(await store.lastResult('rras-1', 'head')).toMatchObject({ at: NOW - 60_000, errorKind: 'ok' });
    expect((await store.history('rras-1', { limit: 10 })).items.map((r) => r.at)).toEqual([NOW - 60_000]);
    expect(await store.uptime('rras-1', NOW - DAY, NOW)).toEqual({ probes: 1, failures: 0 });
  });

  it('older than the raw retention stay until housekeeping prunes them, in a step of their own', async () => {
    const store = await openStore();
    for (let i = 0; i < 5; i++) store.record('rras-1', 'sstp', deepCheck(NOW - 3 * DAY + i * 300_000, 'ack'));
    store.record('rras-1', 'sstp', deepCheck(NOW - 1_000, 'nak'));
    await store.flush();
    store.record('rras-1', 'sstp', deepCheck(NOW - 500, 'ack'));
    await store.flush(); // a write prunes nothing: the pass below finds all five old rows
    const steps = await pass(store, NOW);
    expect(prunedRows(steps)).toBe(5);
    expect(steps.find((s) => s.task === 'prune_raw')?.rows ?? 0).toBe(0);
    expect(await store.lastResult('rras-1', 'sstp')).toMatchObject({ at: NOW - 500, errorKind: 'ok', sstp: { reply: 'ack', hashBitmask: 2 } });
    expect(prunedRows(await pass(store, NOW))).toBe(0);
  });
});

// While housekeeping rolls up and prunes a large backlog, a probe loop against a fake RRAS server keeps running
// on time: no failed probe, no scheduling lag above one second. Bounds are generous (shared, noisy machine);
// the figures are printed for the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../src/demo/fake-rras.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createHeadProber } from '../../src/probe/head.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { Monitor } from '../../src/scheduler/monitor.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { createHousekeeping, type HousekeepingPass } from '../../src/store/housekeeping.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { probeResult, probeSettings, targetConfig } from '../fixtures/domain.js';
import { closeAllRras, startRras } from '../fixtures/fake-rras.js';
import { SSTP_PATH } from '../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../fixtures/certs.js';

const HOUR_MS = 3_600_000;
const BACKLOG_TARGETS = 20;
const BACKLOG_MS = 3 * 24 * HOUR_MS;

let dir: string;
let store: SqliteStore;
let server: FakeRras;
let scheduler: Scheduler | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-hk-probing-'));
  server = await startRras(null, 'answer');
});

afterAll(async () => {
  await scheduler?.stop();
  await store?.close();
  await closeAllRras();
  rmSync(dir, { recursive: true, force: true });
});

const settings = probeSettings({ intervalMs: 1_000, timeoutMs: 2_000, path: SSTP_PATH, tls: { verify: false, caFile: null, ca: null } });

describe('housekeeping next to probing', () => {
  it('prunes a 3-day backlog while a probe loop records no failure and no lag above 1 s', async () => {
    const log = pino({ level: 'silent' });
    store = openSqliteStore({ path: join(dir, 'sstpwatch.db'), log, retention: { rawMs: HOUR_MS, minuteMs: 24 * HOUR_MS, hourMs: 48 * HOUR_MS }, maxPending: 1_000_000 });
    const backlog = Array.from({ length: BACKLOG_TARGETS }, (_, i) => ({ name: `old-${i}`, group: 'old', role: 'server' as const, url: `https://old-${i}.example` }));
    await store.syncTargets(backlog);
    const start = Date.now() - BACKLOG_MS;
    let seeded = 0;
    for (let at = start; at < Date.now() - 2 * HOUR_MS; at += 30_000) {
      for (const t of backlog) {
        store.record(t.name, 'head', probeResult(at, true, undefined, 3.2));
        seeded++;
      }
      if (seeded % 50_000 < BACKLOG_TARGETS) await store.flush();
    }
    await store.flush();

    const targets = Array.from({ length: 5 }, (_, i) => targetConfig(`rras-${i}`, settings, { group: 'vpn', url: server.url, hostname: VPN_HOSTNAME, offload: true }));
    const monitor = await Monitor.create({ store, metrics: createMetrics(new Registry(), { processMetrics: false }), log }, targets, []);
    const results: ProbeResult[] = [];
    const lags: number[] = [];
    const probe = createHeadProber();
    scheduler = createScheduler(targets, {
      probe: (target, _check, signal) => probe(target, signal),
      onResult: (target, _check, result) => {
        results.push(result);
        monitor.handleResult(target, 'head', result);
      },
      onLag: (seconds) => lags.push(seconds),
      log,
    });
    const flushTimer = setInterval(() => void store.flush(), 1000);
    const housekeeping = createHousekeeping(store, { log });
    try {
      scheduler.start();
      await new Promise((r) => setTimeout(r, 3_000)); // probing is under way
      const passStart = Date.now();
      const passes: HousekeepingPass[] = [];
      let pruned = 0;
      while (pruned < seeded && Date.now() - passStart < 120_000) {
        const pass = await housekeeping.runPass();
        passes.push(pass);
        pruned += pass.rows.prune_raw ?? 0;
      }
      const passEnd = Date.now();
      await new Promise((r) => setTimeout(r, 2_000));
      await scheduler.stop();

      const during = results.filter((r) => r.at >= passStart && r.at <= passEnd);
      const longestStep = Math.max(...passes.map((p) => p.longestStepMs));
      const maxLag = Math.max(...lags);
      console.log(
        `housekeeping: ${seeded} backlog rows pruned in ${passEnd - passStart} ms (${passes.length} passes, ` +
          `${passes.reduce((n, p) => n + p.steps, 0)} steps, longest step ${longestStep.toFixed(1)} ms); ` +
          `probes: ${results.length} (${during.length} during pruning), failed ${results.filter((r) => !r.ok).length}, max lag ${(maxLag * 1000).toFixed(1)} ms`,
      );
      expect(pruned).toBe(seeded);
      expect(during.length).toBeGreaterThan(0);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(maxLag).toBeLessThan(1);
    } finally {
      clearInterval(flushTimer);
      await housekeeping.stop();
    }
  }, 240_000);
});

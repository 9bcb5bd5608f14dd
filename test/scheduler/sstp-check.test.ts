// How a deep SSTP check's result flows: the planner, the monitor's decision (own series, own table, no state
// change), the store, and the real service running HEAD and deep checks side by side against a fake SSTP server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import type { ProbeSettings, TargetConfig } from '../../src/config/types.js';
import { startFakeSstp, type FakeSstp } from '../../src/demo/fake-sstp.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { plannedChecks } from '../../src/probe/checks.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { Monitor } from '../../src/scheduler/monitor.js';
import { createService, type Service } from '../../src/service.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { probeSettings, statusResult, targetConfig } from '../fixtures/domain.js';

const log = pino({ level: 'silent' });

const target = (name: string, over: Partial<ProbeSettings> = {}) => targetConfig(name, probeSettings(over));

function headOk(at: number): ProbeResult {
  return statusResult(at, 401, { message: 'HTTP/1.1 401', durationMs: 3, phasesMs: { dns: 0, connect: 0.5, tls: 2, processing: 0.5 }, tlsVersion: 'TLSv1.3' });
}

function deep(at: number, kind: 'ok' | 'sstp_nak'): ProbeResult {
  const ok = kind === 'ok';
  return {
    at, ok, errorKind: kind, message: ok ? 'SSTP call accepted' : 'server refused the call: Call Connect Nak',
    statusCode: 200, httpVersion: '1.1', durationMs: 9.5, phasesMs: { dns: 0, connect: 0.5, tls: 2, processing: 1 },
    tlsVersion: 'TLSv1.3', certificateSha256: null, certificate: null,
    sstp: {
      stageReached: 'disconnect_ack', reply: ok ? 'ack' : 'nak', stagesMs: { http: 1, call: 1.5, disconnect: 0.5 },
      hashBitmask: ok ? 2 : null, status: ok ? null : { code: 4, attributeId: 1 }, disconnectSent: true,
      disconnectAcked: true, abortSent: false, warning: null, correlationId: '0F6B7E0A-1111-4222-8333-944445555666',
    },
  };
}

describe('the checks a target runs', () => {
  const planned = (t: TargetConfig) => plannedChecks(t.settings).map(({ check, cadence }) => [check, cadence.intervalMs, cadence.schedule]);

  it('is the HEAD probe alone at its interval or schedule, unless check: sstp adds the deep check', () => {
    expect(planned(target('rras-head'))).toEqual([['head', 30_000, null]]);
    expect(planned(target('rras-head', { intervalMs: null, schedule: '*/10 * * * * *' }))).toEqual([['head', null, '*/10 * * * * *']]);
  });

  it('deep-checks every sstp_interval, even when HEAD runs on a cron schedule', () => {
    expect(planned(target('rras-deep', { check: 'sstp', sstpIntervalMs: 60_000 }))).toEqual([
      ['head', 30_000, null],
      ['sstp', 60_000, null],
    ]);
    expect(planned(target('rras-cron', { check: 'sstp', intervalMs: null, schedule: '*/10 * * * * *' }))).toEqual([
      ['head', null, '*/10 * * * * *'],
      ['sstp', 300_000, null],
    ]);
  });
});

describe('the monitor and a deep check result', () => {
  let dir: string;
  let store: SqliteStore;
  let registry: Registry;
  let monitor: Monitor;
  const config = target('rras-eu-1', { check: 'sstp' });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-deep-'));
    store = openSqliteStore({ path: join(dir, 'test.db'), log });
    registry = new Registry();
    monitor = await Monitor.create({ store, metrics: createMetrics(registry, { processMetrics: false }), log }, [config], []);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];

  it('a failed deep check does not move the HEAD state: the target stays up, with its own failing series', async () => {
    monitor.handleResult(config, 'head', headOk(1_000));
    expect(monitor.target('rras-eu-1')!.health.state).toBe('up');
    monitor.handleResult(config, 'sstp', deep(2_000, 'sstp_nak'));
    const entry = monitor.target('rras-eu-1')!;
    expect(entry.health).toMatchObject({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 1 });
    expect(entry.health.lastResult?.errorKind).toBe('ok');
    expect(entry.lastResults.sstp?.errorKind).toBe('sstp_nak');
    expect(await metric('sstp_handshake_success')).toEqual([{ labels: { target: 'rras-eu-1', group: 'vpn-eu', role: 'server' }, value: 0 }]);
    expect(await metric('sstp_probe_success')).toEqual([expect.objectContaining({ value: 1 })]);
    expect(await metric('sstp_handshakes_total')).toEqual([expect.objectContaining({ labels: expect.objectContaining({ result: 'sstp_nak' }), value: 1 })]);
    // The HEAD counter saw only the HEAD probe.
    expect((await metric('sstp_probes_total')).map((v) => v.labels.result)).toEqual(['ok']);
  });

  it('publishes every stage of the handshake, in seconds', async () => {
    monitor.handleResult(config, 'sstp', deep(2_000, 'ok'));
    const stages = Object.fromEntries((await metric('sstp_handshake_stage_seconds')).map((v) => [v.labels.stage, v.value]));
    expect(stages).toEqual({ dns: 0, connect: 0.0005, tls: 0.002, http: 0.001, call: 0.0015, disconnect: 0.0005 });
    expect(await metric('sstp_handshake_success')).toEqual([expect.objectContaining({ value: 1 })]);
  });

  it('stores deep results apart from the HEAD history, with every field', async () => {
    const now = Date.now(); // within retention.raw: older deep results are deleted as new ones are written
    monitor.handleResult(config, 'head', headOk(now - 1_000));
    monitor.handleResult(config, 'sstp', deep(now, 'sstp_nak'));
    await store.flush();
    expect((await store.history('rras-eu-1', { limit: 10 })).items.map((r) => r.at)).toEqual([now - 1_000]);
    const stored = await store.lastResult('rras-eu-1', 'sstp');
    const { certificate: _certificate, ...expected } = deep(now, 'sstp_nak');
    expect(stored).toEqual({ ...expected, certificateSha256: null });
  });

  it('drops the deep series of a target removed from the config', async () => {
    monitor.handleResult(config, 'sstp', deep(2_000, 'ok'));
    await monitor.setConfig([], []);
    expect(await metric('sstp_handshake_success')).toEqual([]);
    expect(await metric('sstp_handshake_stage_seconds')).toEqual([]);
    expect(await metric('sstp_handshakes_total')).toEqual([]);
  });
});

describe('the store keeps deep results for retention.raw', () => {
  it('deletes a target\'s deep results older than retention.raw as new ones are written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-deep-store-'));
    let now = 10 * 86_400_000;
    const store = openSqliteStore({
      path: join(dir, 'test.db'),
      log,
      now: () => now,
      retention: { rawMs: 86_400_000, minuteMs: 2 * 86_400_000, hourMs: 3 * 86_400_000 },
    });
    try {
      await store.syncTargets([{ name: 'rras-eu-1', group: 'vpn-eu', role: 'server', url: 'https://rras-eu-1' }]);
      store.record('rras-eu-1', 'sstp', deep(now - 2 * 86_400_000, 'ok'));
      store.record('rras-eu-1', 'sstp', deep(now - 1_000, 'sstp_nak'));
      await store.flush();
      expect((await store.lastResult('rras-eu-1', 'sstp'))?.errorKind).toBe('sstp_nak');
      now += 86_400_000; // the nak is now older than a day
      store.record('rras-eu-1', 'sstp', deep(now, 'ok'));
      await store.flush();
      expect((await store.lastResult('rras-eu-1', 'sstp'))?.at).toBe(now);
      expect(await store.lastResult('unknown', 'sstp')).toBeNull();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the service runs HEAD and the deep check side by side', () => {
  let dir: string;
  let server: FakeSstp;
  let service: Service | null = null;

  afterEach(async () => {
    await service?.stop();
    service = null;
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deep-checks a check: sstp target every sstp_interval, ending every call, while HEAD keeps the state', async () => {
    server = await startFakeSstp({ tls: null, behavior: 'nak' });
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-deep-service-'));
    writeFileSync(
      join(dir, 'sstpwatch.yml'),
      `database: ./test.db
auth: { token_env: null }
allow_fast_sstp_interval: true
defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 1 }
groups:
  - name: vpn-eu
    hostname: vpn.example.test
    servers:
      - { name: rras-deep, url: "${server.url}", offload: true, check: sstp, sstp_interval: 1s }
      - { name: rras-head, url: "${server.url}", offload: true }
`,
    );
    service = await createService(loadConfigFile(join(dir, 'sstpwatch.yml')), { log, flushIntervalMs: 100 });
    await service.start();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const deepResult = service.monitor.target('rras-deep')?.lastResults.sstp;
      const state = service.monitor.target('rras-deep')?.health.state;
      if (deepResult && state === 'up' && server.calls.filter((c) => c.method === 'SSTP_DUPLEX_POST').length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const deepTarget = service.monitor.target('rras-deep')!;
    expect(deepTarget.health.state).toBe('up');
    expect(deepTarget.lastResults.sstp).toMatchObject({ errorKind: 'sstp_nak', sstp: { reply: 'nak', status: { code: 4 } } });
    expect(service.monitor.target('rras-head')!.lastResults.sstp).toBeUndefined();
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/sstp_handshake_success\{target="rras-deep",group="vpn-eu",role="server"\} 0/);
    expect(metrics).not.toMatch(/sstp_handshake_success\{target="rras-head"/);
    expect(metrics).toMatch(/sstp_handshake_stage_seconds\{target="rras-deep",group="vpn-eu",role="server",stage="call"\}/);
    // The API shows the deep check beside the HEAD result, for check: sstp targets only.
    const deepStatus = (await service.app.inject({ method: 'GET', url: '/api/v1/targets/rras-deep' })).json();
    expect(deepStatus.last_result.error_kind).toBe('ok');
    expect(deepStatus.last_sstp_result).toMatchObject({
      error_kind: 'sstp_nak',
      status_code: 200,
      sstp: { stage_reached: 'disconnect_ack', reply: 'nak', status: { code: 4, attribute_id: 1 }, disconnect_acked: true },
    });
    const headStatus = (await service.app.inject({ method: 'GET', url: '/api/v1/targets/rras-head' })).json();
    expect(headStatus).not.toHaveProperty('last_sstp_result');
    expect(headStatus.last_result).not.toHaveProperty('sstp');
    await service.stop();
    await server.idle();
    const posts = server.calls.filter((c) => c.method === 'SSTP_DUPLEX_POST');
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.every((c) => c.clientDisconnected && c.closed)).toBe(true);
    expect(server.calls.some((c) => c.method === 'HEAD')).toBe(true);
  }, 40_000);
});

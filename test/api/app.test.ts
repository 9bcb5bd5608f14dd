import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/app.js';
import type { TargetRole } from '../../src/config/types.js';
import type { ProbeResult } from '../../src/probe/types.js';
import type { Monitor } from '../../src/scheduler/monitor.js';
import type { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { buildTestApp, testStore } from '../fixtures/app.js';
import { testMonitor } from '../fixtures/monitor.js';
import { probeSettings, statusResult, targetConfig, vpnEuGroup } from '../fixtures/domain.js';

const settings = probeSettings({ fall: 2 });
const target = (name: string, role: TargetRole = 'server') => targetConfig(name, settings, { role });

const targets = [target('rras-eu-1'), target('rras-eu-2'), target('vpn-eu-vip', 'vip')];
const groups = [vpnEuGroup(['rras-eu-1', 'rras-eu-2'], 'vpn-eu-vip')];

function result(at: number, status: number): ProbeResult {
  return statusResult(at, status, {
    durationMs: 12.4,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 5.7 },
    tlsVersion: 'TLSv1.3',
    certificateSha256: 'AB'.repeat(32),
    certificate: {
      subject: 'CN=vpn.example.test',
      issuer: 'CN=Test CA',
      san: ['vpn.example.test'],
      notBefore: Date.UTC(2026, 0, 1),
      notAfter: Date.UTC(2027, 0, 1),
      sha256: 'AB'.repeat(32),
      keyType: 'EC',
      keyBits: 256,
    },
  });
}

const NOW = Date.UTC(2026, 10, 26, 21, 0, 0);

describe('HTTP API', () => {
  let store: MemoryStore;
  let app: App;
  let monitor: Monitor;

  beforeEach(async () => {
    store = testStore();
    const registry = new Registry();
    monitor = await testMonitor(store, targets, groups, { registry });
    app = await buildTestApp({ status: monitor, store, registry, now: () => NOW });
  });

  afterEach(async () => {
    await app.close();
    await store.close();
  });

  it('shows the status of every group and target in the contract shape', async () => {
    monitor.handleResult(targets[0]!, 'head', result(NOW - 1000, 401));
    monitor.handleResult(targets[1]!, 'head', result(NOW - 1000, 404));
    monitor.handleResult(targets[1]!, 'head', result(NOW - 500, 404));
    const res = await app.inject({ method: 'GET', url: '/api/v1/status' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.generated_at).toBe(new Date(NOW).toISOString());
    expect(body.summary).toEqual({ targets: 3, up: 1, down: 1, unknown: 1, maintenance: 0 });
    expect(body.groups).toEqual([{ name: 'vpn-eu', hostname: 'vpn.example.test', state: 'degraded', servers_up: 1, servers_total: 2 }]);
    const down = body.targets.find((t: { name: string }) => t.name === 'rras-eu-2');
    expect(down).toMatchObject({
      name: 'rras-eu-2',
      group: 'vpn-eu',
      role: 'server',
      state: 'down',
      since: new Date(NOW - 500).toISOString(),
      consecutive_failures: 2,
      consecutive_successes: 0,
      last_result: {
        at: new Date(NOW - 500).toISOString(),
        ok: false,
        error_kind: 'unexpected_status',
        message: 'expected 401, got 404',
        status_code: 404,
        http_version: '1.1',
        duration_ms: 12.4,
        phases_ms: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 5.7 },
        tls_version: 'TLSv1.3',
        certificate_sha256: 'AB'.repeat(32),
      },
    });
    expect(down.certificate).toEqual({
      subject: 'CN=vpn.example.test',
      issuer: 'CN=Test CA',
      san: ['vpn.example.test'],
      not_before: '2026-01-01T00:00:00.000Z',
      not_after: '2027-01-01T00:00:00.000Z',
      days_left: 35.13,
      sha256: 'AB'.repeat(32),
      key_type: 'EC',
      key_bits: 256,
    });
  });

  it('answers 404 in the contract error shape for an unknown target', async () => {
    for (const url of ['/api/v1/targets/nope', '/api/v1/targets/nope/history']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no target named "nope"' } });
    }
  });

  it('answers 503 with the reason when the database cannot be reached, never 500', async () => {
    const unavailable = new StoreUnavailableError('PostgreSQL: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432');
    store.history = () => Promise.reject(unavailable);
    const res = await app.inject({ method: 'GET', url: '/api/v1/targets/rras-eu-1/history' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: { code: 'store_unavailable', message: unavailable.message } });
  });

  it('answers 404 for an unknown route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v2/whatever?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it.each([
    ['limit=0', /limit/],
    ['limit=10001', /limit/],
    ['limit=ten', /limit/],
    ['limit=Infinity', /querystring\/limit must be a finite number/],
    ['limit=1e400', /querystring\/limit must be a finite number/],
    ['from=yesterday', /from must be an ISO 8601 time or Unix milliseconds \(got "yesterday"\)/],
    ['to=2026-13-45T00:00:00Z', /to must be/],
    ['from=2026-11-26T00:00:00Z&to=2026-11-25T00:00:00Z', /from \(2026-11-26T00:00:00Z\) is after to/],
    ['cursor=%24%24%24', /invalid cursor/],
    ['resolution=5m', /resolution/],
    ['bogus=1', /additional|bogus/],
  ])('rejects history?%s with 400 and a message', async (query, message) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/targets/rras-eu-1/history?${query}` });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(message);
  });

  it('pages through raw history newest first with no gaps or repeats', async () => {
    for (let i = 0; i < 25; i++) monitor.handleResult(targets[0]!, 'head', result(NOW - 100_000 + i * 1000, i % 5 === 0 ? 503 : 401));
    await store.flush();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/targets/rras-eu-1/history?limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.length).toBeLessThanOrEqual(4);
      seen.push(...body.items.map((r: { at: string }) => r.at));
      cursor = body.next_cursor;
    } while (cursor);
    const expected = Array.from({ length: 25 }, (_, i) => new Date(NOW - 100_000 + (24 - i) * 1000).toISOString());
    expect(seen).toEqual(expected);
  });

  it('filters history by from/to given as ISO time or Unix ms', async () => {
    for (let i = 0; i < 10; i++) monitor.handleResult(targets[0]!, 'head', result(NOW - 10_000 + i * 1000, 401));
    await store.flush();
    const from = NOW - 7000;
    const to = new Date(NOW - 4000).toISOString();
    const res = await app.inject({ method: 'GET', url: `/api/v1/targets/rras-eu-1/history?from=${from}&to=${to}` });
    expect(res.json().items.map((r: { at: string }) => Date.parse(r.at))).toEqual([NOW - 4000, NOW - 5000, NOW - 6000, NOW - 7000]);
    expect(res.json().next_cursor).toBeNull();
  });

  it('exports the contract metrics in Prometheus text', async () => {
    monitor.handleResult(targets[0]!, 'head', result(NOW, 401));
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.body;
    for (const line of [
      'sstp_target_up{target="rras-eu-1",group="vpn-eu",role="server"} 1',
      'sstp_target_state{target="rras-eu-1",group="vpn-eu",role="server",state="up"} 1',
      'sstp_target_state{target="rras-eu-2",group="vpn-eu",role="server",state="unknown"} 1',
      'sstp_probe_success{target="rras-eu-1",group="vpn-eu",role="server"} 1',
      `sstp_probe_last_timestamp_seconds{target="rras-eu-1",group="vpn-eu",role="server"} ${NOW / 1000}`,
      'sstp_probe_duration_seconds_count{target="rras-eu-1",group="vpn-eu",role="server"} 1',
      'sstp_probe_phase_seconds{target="rras-eu-1",group="vpn-eu",role="server",phase="tls"} 0.0062',
      'sstp_probe_http_status_code{target="rras-eu-1",group="vpn-eu",role="server"} 401',
      'sstp_probes_total{target="rras-eu-1",group="vpn-eu",role="server",result="ok"} 1',
      'sstp_target_consecutive_failures{target="rras-eu-1",group="vpn-eu",role="server"} 0',
      'sstp_cert_not_after_timestamp_seconds{target="rras-eu-1",group="vpn-eu",role="server"} 1798761600',
      `sstp_cert_info{target="rras-eu-1",group="vpn-eu",role="server",sha256="${'AB'.repeat(32)}",subject="CN=vpn.example.test",issuer="CN=Test CA"} 1`,
      'sstp_group_servers_up{group="vpn-eu"} 1',
      'sstp_group_servers{group="vpn-eu"} 2',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).not.toContain('sstp_target_up{target="rras-eu-2"');
    expect(text).toContain('# TYPE sstpwatch_scheduler_lag_seconds histogram');
  });

  it('drops every series of a target removed from the config', async () => {
    monitor.handleResult(targets[1]!, 'head', result(NOW, 404));
    await monitor.setConfig([targets[0]!, targets[2]!], [{ ...groups[0]!, servers: ['rras-eu-1'] }]);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain('rras-eu-2');
    expect(text).toContain('sstp_group_servers{group="vpn-eu"} 1');
  });

  it('answers liveness and readiness', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', version: expect.any(String) });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true, checks: { database: { ok: true, reason: null, pending_results: 0 }, scheduler: { ok: true } } });
  });
});

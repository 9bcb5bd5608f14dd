import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthSettings } from '../../../src/api/deps.js';
import type { Monitor } from '../../../src/scheduler/monitor.js';
import type { MemoryStore } from '../../../src/store/memory.js';
import { buildTestApp, testStore } from '../../fixtures/app.js';
import { testMonitor } from '../../fixtures/monitor.js';
import { probeResult, probeSettings, targetConfig, vpnEuGroup } from '../../fixtures/domain.js';

const NOW = Date.parse('2026-11-26T21:00:00.000Z');
const TOKEN = 's3cret-token-for-tests';
const settings = probeSettings({ rise: 1, fall: 1 });
const target = (name: string) => targetConfig(name, settings);
const targets = [target('rras-eu-1'), target('rras-eu-2')];
const groups = [vpnEuGroup(['rras-eu-1', 'rras-eu-2'])];

function result(at: number, ok: boolean) {
  return probeResult(at, ok, { kind: 'connect_refused', message: 'connection refused', durationMs: 1 }, 10);
}

let store: MemoryStore;
let monitor: Monitor;
let now: number;
let probes: string[];

beforeEach(async () => {
  store = testStore();
  now = NOW;
  probes = [];
  monitor = await testMonitor(store, targets, groups, { now: () => now });
});

afterEach(async () => {
  await store.close();
});

/** `auth` null: the app is built without any auth settings. */
function app(auth: AuthSettings | null = { token: TOKEN }) {
  return buildTestApp({
    status: monitor,
    store,
    now: () => now,
    auth: auth ?? undefined,
    control: {
      async probeNow(name) {
        const config = targets.find((t) => t.name === name);
        if (!config) return null;
        probes.push(name);
        const r = result(now, true);
        monitor.handleResult(config, 'head', r);
        return r;
      },
      setMaintenance: (name, maintenance) => monitor.setMaintenance(name, maintenance, now),
      clearMaintenance: (name) => monitor.clearMaintenance(name, now),
    },
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const until = (ms: number) => new Date(ms).toISOString();

describe('write routes need the bearer token', () => {
  const writes = [
    { method: 'PUT' as const, url: '/api/v1/targets/rras-eu-1/maintenance', payload: { until: until(NOW + 3_600_000), reason: 'patching' } },
    { method: 'DELETE' as const, url: '/api/v1/targets/rras-eu-1/maintenance' },
    { method: 'POST' as const, url: '/api/v1/targets/rras-eu-1/probe' },
  ];

  it.each(writes)('$method $url: 401 without a token, 401 with a wrong one, 2xx with the right one', async (request) => {
    const api = await app();
    const missing = await api.inject(request);
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') } });
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await api.inject({ ...request, headers: bearer(`${TOKEN}x`) });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'unauthorized', message: 'invalid bearer token' } });
    expect((await api.inject({ ...request, headers: { authorization: TOKEN } })).statusCode).toBe(401); // no scheme
    const right = await api.inject({ ...request, headers: bearer(TOKEN) });
    expect(right.statusCode).toBe(200);
    await api.close();
  });

  it('without a configured token, every write answers 401 saying so, and nothing about where a token would live', async () => {
    for (const auth of [{ token: null }, { token: '' }, null]) {
      const api = await app(auth);
      for (const request of writes) {
        const response = await api.inject({ ...request, headers: bearer(TOKEN) });
        expect(response.statusCode).toBe(401);
        expect(response.json().error.message).toBe(
          'write endpoints are disabled: no bearer token is configured (the sstpwatch log and docs/security.md say how to set one)',
        );
      }
      await api.close();
    }
    expect(probes).toEqual([]);
  });

  it('reads need no token', async () => {
    const api = await app({ token: null });
    for (const url of ['/api/v1/targets/rras-eu-1/uptime', '/api/v1/targets/rras-eu-1/incidents', '/api/v1/targets/rras-eu-1/history?resolution=1h']) {
      expect((await api.inject({ url })).statusCode).toBe(200);
    }
    await api.close();
  });
});

describe('maintenance routes', () => {
  it('PUT puts the target in maintenance until `until`, DELETE takes it out, and both answer its status', async () => {
    const api = await app();
    monitor.handleResult(targets[0]!, 'head', result(now, true));
    const put = await api.inject({ method: 'PUT', url: '/api/v1/targets/rras-eu-1/maintenance', headers: bearer(TOKEN), payload: { until: until(NOW + 3_600_000), reason: 'patching KB5034441' } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'rras-eu-1', state: 'maintenance', maintenance: { until: until(NOW + 3_600_000), reason: 'patching KB5034441' } });
    const status = (await api.inject({ url: '/api/v1/status' })).json();
    expect(status.summary).toMatchObject({ maintenance: 1 });
    const del = await api.inject({ method: 'DELETE', url: '/api/v1/targets/rras-eu-1/maintenance', headers: bearer(TOKEN) });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ state: 'up', maintenance: null });
    // DELETE again: nothing to end, same answer
    expect((await api.inject({ method: 'DELETE', url: '/api/v1/targets/rras-eu-1/maintenance', headers: bearer(TOKEN) })).json()).toMatchObject({ state: 'up' });
    await api.close();
  });

  it('ends by itself at `until`', async () => {
    const api = await app();
    await api.inject({ method: 'PUT', url: '/api/v1/targets/rras-eu-1/maintenance', headers: bearer(TOKEN), payload: { until: String(NOW + 60_000) } });
    expect(monitor.target('rras-eu-1')!.health.state).toBe('maintenance');
    now = NOW + 60_000;
    monitor.tick(now);
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-1' })).json()).toMatchObject({ state: 'unknown', maintenance: null });
    await api.close();
  });

  it.each([
    [{ until: 'tomorrow' }, 400, /until must be an ISO 8601 time/],
    [{ until: until(NOW - 1) }, 400, /until must be in the future/],
    [{ until: until(NOW + 400 * 86_400_000) }, 400, /within 366 days/],
    [{}, 400, /until/],
    [{ until: until(NOW + 1000), reason: 'x', extra: 1 }, 400, /additional|extra/i],
    [{ until: until(NOW + 1000), reason: 'x'.repeat(501) }, 400, /reason/],
  ])('refuses the body %j with %i', async (payload, status, message) => {
    const api = await app();
    const response = await api.inject({ method: 'PUT', url: '/api/v1/targets/rras-eu-1/maintenance', headers: bearer(TOKEN), payload });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.message).toMatch(message);
    expect(monitor.target('rras-eu-1')!.health.state).not.toBe('maintenance');
    await api.close();
  });

  it('answers 404 for an unknown target', async () => {
    const api = await app();
    const response = await api.inject({ method: 'PUT', url: '/api/v1/targets/nope/maintenance', headers: bearer(TOKEN), payload: { until: until(NOW + 1000) } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('not_found');
    expect((await api.inject({ method: 'POST', url: '/api/v1/targets/nope/probe', headers: bearer(TOKEN) })).statusCode).toBe(404);
    await api.close();
  });
});

describe('probe now', () => {
  it('answers the new result, which the monitor has taken in', async () => {
    const api = await app();
    const response = await api.inject({ method: 'POST', url: '/api/v1/targets/rras-eu-2/probe', headers: bearer(TOKEN) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ at: until(NOW), ok: true, error_kind: 'ok', status_code: 401 });
    expect(probes).toEqual(['rras-eu-2']);
    expect(monitor.target('rras-eu-2')!.health.state).toBe('up');
    await api.close();
  });
});

describe('incidents, uptime and rollup history', () => {
  /** Up, then down 21:10..21:20, then up: one result a minute for two hours, flushed and rolled up. */
  async function history() {
    const start = NOW;
    for (let i = 0; i < 120; i++) {
      now = start + i * 60_000 + 500;
      monitor.handleResult(targets[0]!, 'head', result(now, !(i >= 10 && i < 20)));
    }
    now = start + 2 * 3_600_000 + 30_000;
    await store.flush();
    for (let step = await store.housekeepingStep(now); step; step = await store.housekeepingStep(now));
  }

  it('lists the down period with its cause, and respects from/to', async () => {
    await history();
    const api = await app();
    const all = await api.inject({ url: '/api/v1/targets/rras-eu-1/incidents' });
    expect(all.json()).toEqual({
      items: [
        { started_at: until(NOW + 10 * 60_000 + 500), ended_at: until(NOW + 20 * 60_000 + 500), duration_s: 600, cause: 'connect_refused', message: 'connection refused' },
      ],
    });
    const before = await api.inject({ url: `/api/v1/targets/rras-eu-1/incidents?to=${until(NOW + 5 * 60_000)}` });
    expect(before.json()).toEqual({ items: [] });
    const during = await api.inject({ url: `/api/v1/targets/rras-eu-1/incidents?from=${NOW + 15 * 60_000}&to=${NOW + 16 * 60_000}` });
    expect(during.json().items).toHaveLength(1);
    const bad = await api.inject({ url: `/api/v1/targets/rras-eu-1/incidents?from=${NOW + 1}&to=${NOW}` });
    expect(bad.statusCode).toBe(400);
    expect((await api.inject({ url: '/api/v1/targets/nope/incidents' })).statusCode).toBe(404);
    await api.close();
  });

  it('gives uptime per window, and 400 for an unknown window', async () => {
    await history();
    const api = await app();
    // 24 h: 120 results, all with a verdict (rise/fall 1), 10 failed
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-1/uptime?window=24h' })).json()).toEqual({ window: '24h', ratio: 110 / 120, probes: 120, failures: 10 });
    // 1 h before 23:00:30: the results of 22:01:00.5 .. 22:59:00.5, all ok
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-1/uptime?window=1h' })).json()).toEqual({ window: '1h', ratio: 1, probes: 59, failures: 0 });
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-2/uptime?window=30d' })).json()).toEqual({ window: '30d', ratio: null, probes: 0, failures: 0 });
    const bad = await api.inject({ url: '/api/v1/targets/rras-eu-1/uptime?window=2d' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('bad_request');
    await api.close();
  });

  it('serves 1m and 1h rollups with cursors, and refuses a bad resolution or cursor', async () => {
    await history();
    const api = await app();
    const hours = (await api.inject({ url: '/api/v1/targets/rras-eu-1/history?resolution=1h' })).json();
    expect(hours).toEqual({
      items: [
        { at: until(NOW + 3_600_000), probes: 60, failures: 0, avg_ms: 10, max_ms: 10, p95_ms: 10 },
        { at: until(NOW), probes: 60, failures: 10, avg_ms: 8.5, max_ms: 10, p95_ms: 10 },
      ],
      next_cursor: null,
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/targets/rras-eu-1/history?resolution=1m&limit=25${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await api.inject({ url })).json();
      seen.push(...page.items.map((i: { at: string }) => i.at));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect(seen[0]).toBe(until(NOW + 119 * 60_000));
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-1/history?resolution=5m' })).statusCode).toBe(400);
    expect((await api.inject({ url: '/api/v1/targets/rras-eu-1/history?resolution=1m&cursor=abc' })).statusCode).toBe(400);
    await api.close();
  });
});

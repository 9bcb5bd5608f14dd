// Two vantage points on one real PostgreSQL (test/fixtures/postgres.ts): a `lan` and an `internet` instance, each with
// its own store and monitor, probe the same targets; the lan instance's API shows both sites, the combined state and
// the finding, reads the internet site's history, and a maintenance window set through it reaches the internet
// instance. Everything but the probes is real: the stores, the migration, the monitors, the published states.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { Monitor } from '../../src/scheduler/monitor.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { READY } from '../fixtures/app.js';
import { probeResult, statusResult, targetConfig, vpnEuGroup } from '../fixtures/domain.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';

const log = pino({ level: 'silent' });
const targets = [targetConfig('rras-1'), targetConfig('rras-2')];
const groups = [vpnEuGroup(['rras-1', 'rras-2'])];
const TOKEN = 'site-test-token';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.destroy());

interface Instance {
  store: PostgresStore;
  monitor: Monitor;
}

const opened: { stores: PostgresStore[]; apps: App[] } = { stores: [], apps: [] };
afterEach(async () => {
  for (const app of opened.apps.splice(0)) await app.close();
  for (const store of opened.stores.splice(0)) await store.close();
});

async function instance(url: string, site: string): Promise<Instance> {
  const store = await openPostgresStore({ url, log, site, startupTimeoutMs: 10_000 });
  opened.stores.push(store);
  const monitor = await Monitor.create({ store, metrics: createMetrics(new Registry(), { processMetrics: false }), log }, targets, groups);
  return { store, monitor };
}

function apiOf({ store, monitor }: Instance): App {
  const app = buildApp({
    status: monitor,
    store,
    registry: new Registry(),
    log,
    readiness: () => READY,
    auth: { token: TOKEN },
    control: {
      probeNow: async () => null,
      setMaintenance: (name, maintenance) => monitor.setMaintenance(name, maintenance),
      clearMaintenance: (name) => monitor.clearMaintenance(name),
    },
  });
  opened.apps.push(app);
  return app;
}

/** `count` results a second apart ending now: enough for rise/fall (2 and 3 by default) to decide. */
function probe(at: Instance, name: string, ok: boolean, count = 3): void {
  const config = targets.find((t) => t.name === name)!;
  const now = Date.now();
  for (let i = count - 1; i >= 0; i--) {
    at.monitor.handleResult(config, 'head', ok ? statusResult(now - i * 1000, 401) : probeResult(now - i * 1000, false, { kind: 'timeout', message: 'no answer within 5s' }));
  }
}

describe('two sites on one PostgreSQL', () => {
  it("shows each site's state, the combined state and the finding from one instance's API, and reads the other site's history", async () => {
    const url = server.urlWithPassword(await server.createDatabase());
    const lan = await instance(url, 'lan');
    const internet = await instance(url, 'internet');
    probe(lan, 'rras-1', true);
    probe(lan, 'rras-2', true);
    probe(internet, 'rras-1', false);
    probe(internet, 'rras-2', true);
    await Promise.all([lan.store.flush(), internet.store.flush()]);
    expect(lan.store.writeHealth().ok && internet.store.writeHealth().ok).toBe(true);

    const app = apiOf(lan);
    const body = (await app.inject('/api/v1/status')).json();
    expect(body.summary).toMatchObject({ targets: 2, up: 1, down: 1 });
    expect(body.groups).toEqual([expect.objectContaining({ name: 'vpn-eu', state: 'degraded', servers_up: 1, servers_total: 2 })]);
    const [rras1, rras2] = body.targets;
    expect(rras1).toMatchObject({ name: 'rras-1', state: 'down' });
    expect(rras1.sites.map((s: { site: string; state: string; stale: boolean }) => [s.site, s.state, s.stale])).toEqual([
      ['internet', 'down', false],
      ['lan', 'up', false],
    ]);
    expect(rras1.sites[0].last_result).toMatchObject({ ok: false, error_kind: 'timeout', message: 'no answer within 5s' });
    expect(rras1.site_findings).toEqual([expect.objectContaining({ code: 'sites_disagree', message: 'answers from `lan` but not from `internet`' })]);
    expect(rras2).toMatchObject({ name: 'rras-2', state: 'up', site_findings: [] });

    const lanHistory = (await app.inject('/api/v1/targets/rras-1/history')).json().items;
    const internetHistory = (await app.inject('/api/v1/targets/rras-1/history?site=internet')).json().items;
    expect(lanHistory.map((r: { ok: boolean }) => r.ok)).toEqual([true, true, true]);
    expect(internetHistory.map((r: { error_kind: string }) => r.error_kind)).toEqual(['timeout', 'timeout', 'timeout']);
    expect((await app.inject('/api/v1/targets/rras-1/incidents?site=internet')).json().items).toEqual([
      expect.objectContaining({ ended_at: null, cause: 'timeout' }),
    ]);
    expect((await app.inject('/api/v1/targets/rras-1/incidents?site=lan')).json().items).toEqual([]);
    expect((await app.inject('/api/v1/targets/rras-1/uptime?window=1h&site=internet')).json()).toMatchObject({ failures: expect.any(Number) });
    const unknown = await app.inject('/api/v1/targets/rras-1/history?site=mars');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('no site named "mars" has probed anything here (sites: "internet", "lan")');
  });

  it('puts the target in maintenance at every site when it is set through any instance', async () => {
    const url = server.urlWithPassword(await server.createDatabase());
    const lan = await instance(url, 'lan');
    const internet = await instance(url, 'internet');
    const app = apiOf(lan);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/targets/rras-1/maintenance',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { until, reason: 'patching' },
    });
    expect(put.statusCode).toBe(200);
    // The lan monitor writes the window (not awaited); the internet instance adopts it at its next read.
    await expect.poll(async () => (await internet.store.maintenanceWindows()).get('rras-1')?.reason).toBe('patching');
    internet.monitor.adoptMaintenance(await internet.store.maintenanceWindows(), internet.monitor.maintenanceMark());
    expect(internet.monitor.target('rras-1')!.health.state).toBe('maintenance');
    expect(internet.monitor.target('rras-2')!.health.state).toBe('unknown');
  });
});

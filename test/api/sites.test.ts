// Vantage points in the API: with several sites, a target's status shows each site's state, the combined state and
// what their disagreement tells; history, incidents and uptime read one site (?site=); a single instance of the
// unnamed site answers as it always did. The other sites' states come from the store (siteStates()), as another
// instance published them; the real-PostgreSQL version of this is sites-postgres.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/app.js';
import type { SiteStates, SiteTargetState } from '../../src/health/sites.js';
import type { MemoryStore } from '../../src/store/memory.js';
import { buildTestApp, fixedStatus, testStore } from '../fixtures/app.js';
import { probeResult, statusResult, targetConfig, targetHealth, targetView, vpnEuGroup } from '../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 29, 21, 0, 0);

const lanUp = targetView(
  targetConfig('rras-1'),
  targetHealth('up', { since: NOW - 3_600_000, consecutiveSuccesses: 40, lastResult: statusResult(NOW - 5_000, 401) }),
);
const lanUp2 = targetView(
  targetConfig('rras-2'),
  targetHealth('up', { since: NOW - 3_600_000, consecutiveSuccesses: 40, lastResult: statusResult(NOW - 4_000, 401) }),
);

function published(over: Partial<SiteTargetState> = {}): SiteTargetState {
  return {
    site: 'internet',
    target: 'rras-1',
    state: 'down',
    since: NOW - 120_000,
    consecutiveFailures: 6,
    consecutiveSuccesses: 0,
    intervalMs: 30_000,
    lastResult: { at: NOW - 3_000, ok: false, errorKind: 'timeout', statusCode: null, durationMs: 5000, message: 'no answer within 5s' },
    certificate: null,
    updatedAt: NOW - 2_000,
    ...over,
  };
}

/** A store of site `site` to which other instances published `states`. */
function storeOf(site: string, states: SiteTargetState[]): MemoryStore {
  const store = testStore({ site, now: () => NOW });
  store.siteStates = async (): Promise<SiteStates> => ({ at: NOW, states });
  return store;
}

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function appWith(site: string, states: SiteTargetState[]): Promise<{ app: App; store: MemoryStore }> {
  const store = storeOf(site, states);
  await store.syncTargets(['rras-1', 'rras-2'].map((name) => ({ name, group: 'vpn-eu', role: 'server', url: `https://${name}.example` })));
  app = await buildTestApp({ store, status: fixedStatus([lanUp, lanUp2], [{ config: vpnEuGroup(['rras-1', 'rras-2']), health: { state: 'ok', serversUp: 2, serversTotal: 2 } }]), now: () => NOW });
  return { app, store };
}

describe('a target probed from two sites', () => {
  it('is down overall when it answers from lan but not from internet, with both sites and the finding', async () => {
    const { app } = await appWith('lan', [published()]);
    const body = (await app.inject('/api/v1/status')).json();
    expect(body.summary).toMatchObject({ targets: 2, up: 1, down: 1 });
    // The group is judged on the combined states too: one server down from a site is a server down.
    expect(body.groups).toEqual([expect.objectContaining({ name: 'vpn-eu', state: 'degraded', servers_up: 1, servers_total: 2 })]);
    const target = body.targets.find((t: { name: string }) => t.name === 'rras-1');
    expect(target.state).toBe('down');
    expect(target.consecutive_successes).toBe(40); // this instance's own counters stay
    expect(target.sites).toEqual([
      {
        site: 'internet',
        state: 'down',
        since: new Date(NOW - 120_000).toISOString(),
        stale: false,
        updated_at: new Date(NOW - 2_000).toISOString(),
        last_result: { at: new Date(NOW - 3_000).toISOString(), ok: false, error_kind: 'timeout', status_code: null, duration_ms: 5000, message: 'no answer within 5s' },
      },
      expect.objectContaining({ site: 'lan', state: 'up', stale: false, updated_at: null, last_result: expect.objectContaining({ ok: true, status_code: 401 }) }),
    ]);
    expect(target.site_findings).toEqual([
      expect.objectContaining({ code: 'sites_disagree', severity: 'critical', sites: ['internet'], message: 'answers from `lan` but not from `internet`' }),
    ]);
    expect(target.site_findings[0].fix).toMatch(/public listener.*NAT, firewall rules, public DNS/);
    // rras-2 is probed from lan only: its sites agree.
    expect(body.targets.find((t: { name: string }) => t.name === 'rras-2')).toMatchObject({ state: 'up', sites: [expect.objectContaining({ site: 'lan' })], site_findings: [] });
  });

  it('is listed under ?state=down by its combined state, and /api/v1/targets/:name says the same', async () => {
    const { app } = await appWith('lan', [published()]);
    expect((await app.inject('/api/v1/status?state=down')).json().targets.map((t: { name: string }) => t.name)).toEqual(['rras-1']);
    const one = (await app.inject('/api/v1/targets/rras-1')).json();
    expect(one).toMatchObject({ state: 'down', site_findings: [expect.objectContaining({ code: 'sites_disagree' })] });
    expect(one.sites.map((s: { site: string }) => s.site)).toEqual(['internet', 'lan']);
  });

  it('counts a site that stopped publishing as stale: unknown there, left out of the combined state, and said so', async () => {
    const { app } = await appWith('lan', [published({ updatedAt: NOW - 200_000 })]);
    const target = (await app.inject('/api/v1/targets/rras-1')).json();
    expect(target.state).toBe('up');
    expect(target.sites[0]).toMatchObject({ site: 'internet', state: 'unknown', stale: true });
    expect(target.site_findings).toEqual([expect.objectContaining({ code: 'site_stale', severity: 'warning', sites: ['internet'] })]);
    expect(target.site_findings[0].message).toContain(new Date(NOW - 200_000).toISOString());
  });

  it('shows the site badges and the finding on the status page', async () => {
    const { app } = await appWith('lan', [published()]);
    const page = (await app.inject('/')).body;
    expect(page).toContain('data-site="internet"');
    expect(page).toContain('data-site="lan"');
    expect(page).toContain('answers from `lan` but not from `internet`');
  });
});

describe('a single instance', () => {
  it('of the unnamed site shows no site fields', async () => {
    const { app } = await appWith('', []);
    const target = (await app.inject('/api/v1/targets/rras-1')).json();
    expect(target).not.toHaveProperty('sites');
    expect(target).not.toHaveProperty('site_findings');
    expect((await app.inject('/api/v1/status')).json().targets[0]).not.toHaveProperty('sites');
  });

  it('that names its site shows that one site', async () => {
    const { app } = await appWith('lan', []);
    const target = (await app.inject('/api/v1/targets/rras-1')).json();
    expect(target).toMatchObject({ state: 'up', sites: [expect.objectContaining({ site: 'lan', state: 'up' })], site_findings: [] });
  });
});

describe('history, incidents and uptime of one site', () => {
  it("read this instance's site by default, or by its name (`default` for the unnamed one)", async () => {
    const { app, store } = await appWith('', []);
    store.record('rras-1', 'head', probeResult(NOW - 10_000, true));
    await store.flush();
    for (const query of ['', '?site=default']) {
      expect((await app.inject(`/api/v1/targets/rras-1/history${query}`)).json().items).toHaveLength(1);
      expect((await app.inject(`/api/v1/targets/rras-1/uptime${query}`)).json()).toMatchObject({ probes: 1, failures: 0 });
      expect((await app.inject(`/api/v1/targets/rras-1/incidents${query}`)).statusCode).toBe(200);
    }
  });

  it('answer 404 naming the known sites for a site nothing was probed from', async () => {
    const { app } = await appWith('lan', []);
    for (const path of ['history', 'history?resolution=1m&', 'incidents', 'uptime']) {
      const response = await app.inject(`/api/v1/targets/rras-1/${path}${path.includes('?') ? '' : '?'}site=mars`);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual({ code: 'not_found', message: 'no site named "mars" has probed anything here (sites: "lan")' });
    }
  });

  it('refuse an empty site name with a 400', async () => {
    const { app } = await appWith('lan', []);
    expect((await app.inject('/api/v1/targets/rras-1/uptime?site=')).statusCode).toBe(400);
  });
});

describe('an instance sharing its site with a peer', () => {
  const group = vpnEuGroup(['rras-1', 'rras-2']);
  const peerRow = published({ site: 'lan', target: 'rras-2' });

  async function sharing(): Promise<{ app: App; store: MemoryStore }> {
    const store = storeOf('lan', [peerRow]);
    await store.syncTargets(['rras-1', 'rras-2'].map((name) => ({ name, group: 'vpn-eu', role: 'server', url: `https://${name}.example` })));
    // This instance probes rras-1; its peer probes rras-2 and published its state.
    const status = fixedStatus([lanUp], [{ config: vpnEuGroup(['rras-1']), health: { state: 'ok', serversUp: 1, serversTotal: 1 } }]);
    app = await buildTestApp({
      store,
      status,
      fleet: { targets: () => [lanUp.config, lanUp2.config], groups: () => [group] },
      auth: { token: 'token' },
      control: { probeNow: async () => null, setMaintenance: (name) => status.target(name), clearMaintenance: (name) => status.target(name) },
      now: () => NOW,
    });
    return { app, store };
  }

  it("lists every configured target, the peer's from the state it published, and judges the group on all of them", async () => {
    const { app } = await sharing();
    const body = (await app.inject('/api/v1/status')).json();
    expect(body.targets.map((t: { name: string; state: string }) => [t.name, t.state])).toEqual([
      ['rras-1', 'up'],
      ['rras-2', 'down'],
    ]);
    expect(body.groups).toEqual([expect.objectContaining({ name: 'vpn-eu', state: 'degraded', servers_up: 1, servers_total: 2 })]);
    const peer = (await app.inject('/api/v1/targets/rras-2')).json();
    expect(peer).toMatchObject({ state: 'down', consecutive_failures: 6, last_result: { ok: false, error_kind: 'timeout', message: 'no answer within 5s' } });
    expect(peer.sites).toEqual([expect.objectContaining({ site: 'lan', state: 'down', stale: false })]);
  });

  it("records a maintenance window for the peer's target in the store, where the peer adopts it", async () => {
    const { app, store } = await sharing();
    const until = new Date(NOW + 3_600_000).toISOString();
    const put = await app.inject({ method: 'PUT', url: '/api/v1/targets/rras-2/maintenance', headers: { authorization: 'Bearer token' }, payload: { until, reason: 'patching' } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'rras-2', state: 'maintenance', maintenance: { until, reason: 'patching' } });
    expect(await store.maintenanceWindows()).toEqual(new Map([['rras-2', { until: NOW + 3_600_000, reason: 'patching' }]]));
    const deleted = await app.inject({ method: 'DELETE', url: '/api/v1/targets/rras-2/maintenance', headers: { authorization: 'Bearer token' } });
    expect(deleted.statusCode).toBe(200);
    expect(await store.maintenanceWindows()).toEqual(new Map());
  });
});

// GET /api/v1/status answered from a snapshot: how stale it may be, when its ETag moves, and that concurrent
// requests share one look at the live state and one body.
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/api/app.js';
import { STALE_MS } from '../../src/api/status-cache.js';
import type { GroupConfig } from '../../src/config/types.js';
import { groupHealth } from '../../src/health/group.js';
import type { TargetState } from '../../src/health/types.js';
import type { GroupView, StatusSource, TargetView } from '../../src/health/views.js';
import { buildTestApp } from '../fixtures/app.js';
import { probeResult, targetConfig, targetHealth, targetView } from '../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 29, 23, 0, 0);
const TOKEN = 'a-test-token-of-enough-length';

/** A live state the test changes as the monitor would (a new health object per change), counting its reads. */
class LiveFleet implements StatusSource {
  views: TargetView[] = [];
  groupViews: GroupView[] = [];
  reads = 0;

  constructor(groups: number, perGroup: number) {
    for (let g = 0; g < groups; g++) this.addGroup(`vpn-${g}`, perGroup);
  }

  addGroup(name: string, servers: number): void {
    const config: GroupConfig = { name, hostname: `${name}.example.test`, servers: [], vip: null };
    for (let s = 0; s < servers; s++) {
      const target = targetConfig(`${name}-rras-${s}`, undefined, { group: name, hostname: config.hostname });
      config.servers.push(target.name);
      this.views.push(targetView(target, targetHealth('up', { lastResult: probeResult(NOW - 1000, true) })));
    }
    this.groupViews.push({ config, health: groupHealth(config.servers.map(() => 'up'), null) });
  }

  set(name: string, state: TargetState): TargetView {
    const view = this.views.find((v) => v.config.name === name)!;
    view.health = targetHealth(state, { lastResult: probeResult(NOW, state === 'up') });
    return view;
  }

  targets(): TargetView[] {
    this.reads++;
    return [...this.views];
  }

  target(name: string): TargetView | undefined {
    return this.views.find((v) => v.config.name === name);
  }

  groups(): GroupView[] {
    return [...this.groupViews];
  }
}

describe('the status list snapshot', () => {
  let app: App;
  let fleet: LiveFleet;
  let t = NOW;

  async function start(groups = 3, perGroup = 40): Promise<void> {
    fleet = new LiveFleet(groups, perGroup);
    t = NOW;
    app = await buildTestApp({
      status: fleet,
      now: () => t,
      auth: { token: TOKEN },
      control: {
        probeNow: async () => null,
        setMaintenance: (name) => fleet.set(name, 'maintenance'),
        clearMaintenance: (name) => fleet.set(name, 'up'),
      },
    });
  }

  afterEach(async () => {
    await app.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const stateOf = async (name: string) => (await get('/api/v1/status')).json().targets.find((x: { name: string }) => x.name === name).state;

  it(`looks again once its newest version is ${STALE_MS} ms old: a quiet list's next request waits for the look`, async () => {
    await start();
    const first = await get('/api/v1/status');
    fleet.set('vpn-1-rras-3', 'down');
    t = NOW + STALE_MS - 1;
    const stale = await get('/api/v1/status');
    expect(stale.headers.etag).toBe(first.headers.etag);
    expect(stale.json().summary.down).toBe(0);
    t = NOW + 60_000; // a poller a minute later gets the state as of its request, not of the last look
    expect(await stateOf('vpn-1-rras-3')).toBe('down');
  });

  it('answers the requests right after a look slower than a second from it, not from yet another look they wait for', async () => {
    await start();
    // Each look takes 1.2 s of the clock, as at 10,000 targets on a loaded machine.
    const look = fleet.targets.bind(fleet);
    fleet.targets = () => {
      t += STALE_MS + 200;
      return look();
    };
    const first = await get('/api/v1/status'); // a quiet list: it waits for the look
    fleet.set('vpn-1-rras-3', 'down');
    const reads = fleet.reads;
    const next = await get('/api/v1/status'); // the look it waited for is 1.2 s old already
    expect(next.headers.etag).toBe(first.headers.etag);
    expect(next.json().summary.down).toBe(0);
    // It was answered at once; the next version, built meanwhile, shows the change.
    await vi.waitFor(async () => expect((await get('/api/v1/status')).json().summary.down).toBe(1));
    expect(fleet.reads - reads).toBeGreaterThanOrEqual(1);
  });

  it('answers requests from the current version while the next one is built, without waiting for it', async () => {
    await start(20, 100);
    const first = await get('/api/v1/status', { 'accept-encoding': 'gzip' });
    t = NOW + 500;
    await get('/api/v1/status', { 'accept-encoding': 'gzip' }); // polled continuously: the next version is built ahead
    fleet.set('vpn-7-rras-1', 'down');
    t = NOW + STALE_MS;
    const reads = fleet.reads;
    const during = await Promise.all([
      get('/api/v1/status', { 'accept-encoding': 'gzip' }),
      get('/api/v1/status'),
      get('/api/v1/status', { 'if-none-match': first.headers.etag as string }),
    ]);
    // The live state was looked at once (the next version), yet every answer came from the current one.
    expect(fleet.reads - reads).toBe(1);
    expect(during.map((r) => r.headers.etag)).toEqual([first.headers.etag, first.headers.etag, first.headers.etag]);
    expect(during.map((r) => r.statusCode)).toEqual([200, 200, 304]);
    expect(gunzipSync(during[0].rawPayload).toString('utf8')).toBe(during[1].body);
    expect(during[1].json().summary.down).toBe(0);
    // The next version, its gzip prepared, replaces it: the change shows within a second plus the build.
    await vi.waitFor(async () => expect((await get('/api/v1/status', { 'if-none-match': first.headers.etag as string })).statusCode).toBe(200));
    const next = await get('/api/v1/status', { 'accept-encoding': 'gzip' });
    const plain = await get('/api/v1/status');
    expect(next.headers.etag).toBe(plain.headers.etag);
    expect(gunzipSync(next.rawPayload).toString('utf8')).toBe(plain.body);
    expect(plain.json().summary.down).toBe(1);
    expect(plain.json().generated_at).toBe(new Date(NOW + STALE_MS).toISOString());
    expect(fleet.reads - reads).toBe(1);
  });

  it('shows a change made through the API in the very next response, even while the next version is being built', async () => {
    await start(20, 100);
    await get('/api/v1/status', { 'accept-encoding': 'gzip' });
    t = NOW + 500;
    await get('/api/v1/status', { 'accept-encoding': 'gzip' });
    t = NOW + STALE_MS;
    const [stale, put] = await Promise.all([
      get('/api/v1/status', { 'accept-encoding': 'gzip' }), // starts building the next version
      app.inject({
        method: 'PUT', url: '/api/v1/targets/vpn-3-rras-9/maintenance', headers: { authorization: `Bearer ${TOKEN}` },
        payload: { until: new Date(NOW + 3_600_000).toISOString(), reason: 'patching' },
      }),
    ]);
    expect([stale.statusCode, put.statusCode]).toEqual([200, 200]);
    const after = await get('/api/v1/status', { 'accept-encoding': 'gzip' });
    const list = JSON.parse(gunzipSync(after.rawPayload).toString('utf8'));
    expect(list.targets.find((x: { name: string }) => x.name === 'vpn-3-rras-9').state).toBe('maintenance');
  });

  it('shows a change made through the API at once', async () => {
    await start();
    expect(await stateOf('vpn-0-rras-0')).toBe('up');
    const put = await app.inject({
      method: 'PUT', url: '/api/v1/targets/vpn-0-rras-0/maintenance', headers: { authorization: `Bearer ${TOKEN}` },
      payload: { until: new Date(NOW + 3_600_000).toISOString(), reason: 'patching' },
    });
    expect(put.statusCode).toBe(200);
    expect(await stateOf('vpn-0-rras-0')).toBe('maintenance');
  });

  it('keeps answering from its snapshot when a write is refused (no token): refused requests cannot force new looks', async () => {
    await start();
    await get('/api/v1/status');
    const reads = fleet.reads;
    const refused = await app.inject({ method: 'DELETE', url: '/api/v1/targets/vpn-0-rras-0/maintenance' });
    expect(refused.statusCode).toBe(401);
    await get('/api/v1/status');
    expect(fleet.reads).toBe(reads);
  });

  it('keeps its ETag (and generated_at) while nothing shown changed, however often it looks again', async () => {
    await start();
    const first = await get('/api/v1/status');
    // Each at least MAX_STALE_MS after the look before it: each request looks again.
    for (const later of [2, 5, 30].map((s) => NOW + s * 1000)) {
      t = later;
      fleet.views = fleet.views.map((v) => ({ ...v })); // new view objects around the same state
      const again = await get('/api/v1/status', { 'if-none-match': first.headers.etag as string });
      expect(again.statusCode).toBe(304);
    }
    expect((await get('/api/v1/status')).body).toBe(first.body);
    expect(fleet.reads).toBe(4);
  });

  it('answers concurrent requests from one look at the live state and one body, gzipped once', async () => {
    await start(10, 50);
    t = NOW + 10_000;
    fleet.set('vpn-7-rras-1', 'down');
    const before = fleet.reads;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => get('/api/v1/status', i % 2 ? { 'accept-encoding': 'gzip' } : {})),
    );
    expect(fleet.reads - before).toBe(1);
    expect(new Set(answers.map((a) => a.headers.etag)).size).toBe(1);
    const plain = answers.filter((a) => a.headers['content-encoding'] === undefined);
    const zipped = answers.filter((a) => a.headers['content-encoding'] === 'gzip');
    expect([plain.length, zipped.length]).toEqual([4, 4]);
    expect(new Set(plain.map((a) => a.body)).size).toBe(1);
    expect(new Set(zipped.map((a) => a.rawPayload.toString('base64'))).size).toBe(1);
    expect(gunzipSync(zipped[0]!.rawPayload).toString('utf8')).toBe(plain[0]!.body);
    expect(plain[0]!.json().summary).toEqual({ targets: 500, up: 499, down: 1, unknown: 0, maintenance: 0 });
  });

  it('filters by group and state from the snapshot, showing only the filtered group, and pages through a group', async () => {
    await start(4, 30);
    fleet.set('vpn-2-rras-5', 'down');
    fleet.set('vpn-2-rras-17', 'down');
    fleet.set('vpn-3-rras-0', 'down');
    const group = (await get('/api/v1/status?group=vpn-2')).json();
    expect(group.groups.map((g: { name: string }) => g.name)).toEqual(['vpn-2']);
    expect(group.targets).toHaveLength(30);
    expect(group.summary.down).toBe(3);
    const down = (await get('/api/v1/status?group=vpn-2&state=down')).json();
    expect(down.targets.map((x: { name: string }) => x.name)).toEqual(['vpn-2-rras-5', 'vpn-2-rras-17']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { targets: { name: string }[]; next_cursor: string | null } = (await get(`/api/v1/status?group=vpn-1&limit=7${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...page.targets.map((x) => x.name));
      cursor = page.next_cursor;
    } while (cursor !== null && seen.length < 100);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, s) => `vpn-1-rras-${s}`));
  });

  it('finds a group a reload added since the last look, and still refuses one that is not configured', async () => {
    await start(2, 3);
    await get('/api/v1/status');
    fleet.addGroup('vpn-new', 2);
    const added = await get('/api/v1/status?group=vpn-new');
    expect(added.statusCode).toBe(200);
    expect(added.json().targets.map((x: { name: string }) => x.name)).toEqual(['vpn-new-rras-0', 'vpn-new-rras-1']);
    const unknown = await get('/api/v1/status?group=vpn-9');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toMatch(/no group named "vpn-9"/);
  });
});

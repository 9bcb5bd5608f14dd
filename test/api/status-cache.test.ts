import { describe, expect, it } from 'vitest';
import type { GroupView, TargetView } from '../../src/health/views.js';
import { presentTarget } from '../../src/api/present.js';
import { FragmentCache, LOOK_SLICE_MS, StatusSnapshots, type StatusListSource } from '../../src/api/status-cache.js';
import { assemble } from '../../src/api/status-list.js';
import { statusListSource } from '../../src/api/routes/status.js';
import { groupHealth } from '../../src/health/group.js';
import { applyResult, initialHealth } from '../../src/health/state.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { probeResult, probeSettings, targetConfig, targetView, vpnEuGroup } from '../fixtures/domain.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 26, 21, 0, 0);

const config = targetConfig('rras-eu-1', probeSettings({ fall: 2 }));

/** days_left is rounded to 0.01 days: this expiry shows 0.01 at T0 and 0 one second later. */
const NOT_AFTER = T0 + 0.005 * DAY_MS + 500;

function result(at: number, ok: boolean): ProbeResult {
  return {
    ...probeResult(at, ok, { kind: 'timeout', message: 'no answer within 5s', durationMs: 4.2 }, 4.2),
    message: ok ? 'HTTP/1.1 401 Unauthorized' : 'no answer within 5s',
    phasesMs: { dns: 0, connect: 0.3 },
    tlsVersion: 'TLSv1.3',
    certificateSha256: 'AB'.repeat(32),
    certificate: {
      subject: 'CN=vpn.example.test', issuer: 'CN=Test CA', san: ['vpn.example.test'], notBefore: T0 - DAY_MS,
      notAfter: NOT_AFTER, sha256: 'AB'.repeat(32), keyType: 'EC', keyBits: 256,
    },
  };
}

function view(at: number, ok = true, previous?: TargetView): TargetView {
  const health = applyResult(config.name, previous?.health ?? initialHealth(), result(at, ok), config.settings).health;
  return targetView(config, health);
}

const fresh = (v: TargetView, now: number) => JSON.stringify(presentTarget(v, now));

/** The list's source as the route builds it, for these views (no groups, no calendar, no certificates). */
function source(views: () => TargetView[], groups: () => GroupView[] = () => []) {
  return statusListSource({ status: { targets: views, groups, target: () => undefined } });
}
const entry = (cache: FragmentCache<TargetView>, v: TargetView, now: number) => cache.json(v, now);
const targetCache = () => new FragmentCache(source(() => []).target);

describe('the status list cache', () => {
  it('gives exactly what presentTarget gives without certificate details, and the same string again while nothing changed', () => {
    const cache = targetCache();
    const v = view(T0);
    const first = entry(cache, v, T0);
    expect(JSON.parse(first)).toEqual(presentTarget(v, T0));
    expect(JSON.parse(first)).not.toHaveProperty('certificate_chain');
    expect(entry(cache, v, T0 + 1000)).toBe(first); // cached: days_left as at T0
    expect(JSON.parse(first).certificate.days_left).toBe(0.01);
  });

  it('rebuilds a target once its health changes (every result gives a new health)', () => {
    const cache = targetCache();
    const v1 = view(T0);
    entry(cache, v1, T0);
    const v2 = view(T0 + 30_000, false, v1);
    const json = entry(cache, v2, T0 + 30_000);
    expect(json).toBe(fresh(v2, T0 + 30_000));
    expect(JSON.parse(json).last_result.error_kind).toBe('timeout');
  });

  it('rebuilds after a minute even when nothing changed, so days_left moves', () => {
    const cache = targetCache();
    const v = view(T0);
    entry(cache, v, T0);
    const later = T0 + 60_000;
    expect(entry(cache, v, later)).toBe(fresh(v, later));
    expect(JSON.parse(entry(cache, v, later)).certificate.days_left).toBe(0);
  });

  it('forgets targets no longer listed', () => {
    const cache = targetCache();
    const v = view(T0);
    entry(cache, v, T0);
    cache.retain([]);
    expect(entry(cache, v, T0 + 1000)).toBe(fresh(v, T0 + 1000)); // rebuilt: days_left 0, not 0.01
  });
});

describe('the status list version', () => {
  /** A look at the live state each time (when the route looks is tested through the app). */
  function versions(views: () => TargetView[], groups?: () => GroupView[]) {
    const snapshots = new StatusSnapshots(source(views, groups));
    return (now: number) => snapshots.look(now);
  }

  it('stays while nothing shown changed, even for new view objects around the same state', async () => {
    const v = view(T0);
    let views = [v];
    const snapshot = versions(() => views);
    const first = await snapshot(T0);
    views = [{ ...v }];
    expect(await snapshot(T0 + 1000)).toBe(first);
    expect(first.builtAt).toBe(T0);
  });

  it('moves with a new result, a changed group, a removed target and a days_left that moved', async () => {
    const v1 = view(T0);
    let views = [v1];
    let groups: GroupView[] = [];
    const snapshot = versions(() => views, () => groups);
    const first = await snapshot(T0);
    const v2 = view(T0 + 30_000, false, v1);
    views = [v2];
    const second = await snapshot(T0 + 30_000);
    expect(second.version).toBe(first.version + 1);
    groups = [{ config: vpnEuGroup([config.name]), health: groupHealth([v2.health.state], null) }];
    expect((await snapshot(T0 + 30_000)).version).toBe(second.version + 1);
    views = [];
    expect((await snapshot(T0 + 30_000)).version).toBe(second.version + 2);
    views = [v1];
    const other = versions(() => views);
    const atT0 = await other(T0);
    expect(await other(T0 + 59_000)).toBe(atT0); // kept: rebuilt at most once a minute
    expect((await other(T0 + 60_000)).version).toBe(atT0.version + 1); // days_left 0.01 -> 0
  });
});

describe('a look at a large fleet', () => {
  /** Targets whose presentation takes a while (each busy for 0.1 ms), as thousands of real ones do together. */
  function slowSource(names: () => string[]): StatusListSource {
    const busy = () => {
      const until = performance.now() + 0.1;
      while (performance.now() < until);
    };
    const views = () => names().map((name) => ({ config: { name, group: 'g' }, health: { state: 'up' } }) as unknown as TargetView);
    return {
      targets: views,
      groups: () => [],
      target: { key: (v) => v.config.name, inputs: (v, _now, into) => into.push(v.config.name), present: (v) => (busy(), { name: v.config.name }) },
      group: { key: (g) => g.config.name, inputs: () => undefined, present: () => ({}) },
    };
  }
  const names = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it(`gives the event loop back every ${LOOK_SLICE_MS} ms or so, and still lists every target in order`, async () => {
    const snapshots = new StatusSnapshots(slowSource(() => names(1000)));
    let pauses = 0;
    const snapshot = await snapshots.look(T0, async () => {
      pauses++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    // 1,000 targets of 0.1 ms each take at least 100 ms; the clock is read every few dozen targets.
    expect(pauses).toBeGreaterThanOrEqual(10);
    expect(snapshot.names).toEqual(names(1000));
    expect(snapshot.targetJson.map((j) => JSON.parse(j).name)).toEqual(names(1000));
    expect(snapshot.targetBytes).toEqual(snapshot.targetJson.map((j) => Buffer.byteLength(j)));
  });

  it('starts a look asked for meanwhile only after the one under way, over the state as it is then', async () => {
    let current = names(300, 'old');
    const snapshots = new StatusSnapshots(slowSource(() => current));
    const first = snapshots.look(T0);
    await new Promise((resolve) => setImmediate(resolve)); // the first look is under way, between two slices
    current = names(300, 'new');
    const second = snapshots.look(T0 + 10);
    const [a, b] = await Promise.all([first, second]);
    expect(a.names[0]).toBe('old0');
    expect(b.names[0]).toBe('new0');
    expect(b.version).toBe(a.version + 1);
  });
});

describe('a list body assembled from fragments', () => {
  it.each([
    ['every fragment', null, '{"t":[{"n":"a"},{"n":"Zürich ✓"},{"n":"c"}]}'],
    ['those at the indices', [1, 2], '{"t":[{"n":"Zürich ✓"},{"n":"c"}]}'],
    ['none', [], '{"t":[]}'],
  ] as const)('holds %s, byte for byte, multi-byte characters too', (_, indices, expected) => {
    const fragments = ['{"n":"a"}', '{"n":"Zürich ✓"}', '{"n":"c"}'];
    const body = assemble({ open: '{"t":[', fragments, indices, close: ']}' });
    expect(assemble({ open: '{"t":[', fragments, fragmentBytes: fragments.map((f) => Buffer.byteLength(f)), indices, close: ']}' })).toEqual(body);
    expect(body.toString('utf8')).toBe(expected);
    expect(body.length).toBe(Buffer.byteLength(expected));
  });
});

import { describe, expect, it } from 'vitest';
import type { GroupView, TargetView } from '../../src/health/views.js';
import { presentTarget } from '../../src/api/present.js';
import { FragmentCache, StatusSnapshots } from '../../src/api/status-cache.js';
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

  it('stays while nothing shown changed, even for new view objects around the same state', () => {
    const v = view(T0);
    let views = [v];
    const snapshot = versions(() => views);
    const first = snapshot(T0);
    views = [{ ...v }];
    expect(snapshot(T0 + 1000)).toBe(first);
    expect(first.builtAt).toBe(T0);
  });

  it('moves with a new result, a changed group, a removed target and a days_left that moved', () => {
    const v1 = view(T0);
    let views = [v1];
    let groups: GroupView[] = [];
    const snapshot = versions(() => views, () => groups);
    const first = snapshot(T0);
    const v2 = view(T0 + 30_000, false, v1);
    views = [v2];
    const second = snapshot(T0 + 30_000);
    expect(second.version).toBe(first.version + 1);
    groups = [{ config: vpnEuGroup([config.name]), health: groupHealth([v2.health.state], null) }];
    expect(snapshot(T0 + 30_000).version).toBe(second.version + 1);
    views = [];
    expect(snapshot(T0 + 30_000).version).toBe(second.version + 2);
    views = [v1];
    const other = versions(() => views);
    const atT0 = other(T0);
    expect(other(T0 + 59_000)).toBe(atT0); // kept: rebuilt at most once a minute
    expect(other(T0 + 60_000).version).toBe(atT0.version + 1); // days_left 0.01 -> 0
  });
});

describe('a list body assembled from fragments', () => {
  it.each([
    ['every fragment', null, '{"t":[{"n":"a"},{"n":"Zürich ✓"},{"n":"c"}]}'],
    ['those at the indices', [1, 2], '{"t":[{"n":"Zürich ✓"},{"n":"c"}]}'],
    ['none', [], '{"t":[]}'],
  ] as const)('holds %s, byte for byte, multi-byte characters too', (_, indices, expected) => {
    const body = assemble('{"t":[', ['{"n":"a"}', '{"n":"Zürich ✓"}', '{"n":"c"}'], indices, ']}');
    expect(body.toString('utf8')).toBe(expected);
    expect(body.length).toBe(Buffer.byteLength(expected));
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentsFrom } from '../../src/health/incidents.js';
import type { Monitor } from '../../src/scheduler/monitor.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { probeResult, probeSettings, targetConfig, vpnEuGroup } from '../fixtures/domain.js';
import { testMonitor } from '../fixtures/monitor.js';

const T0 = Date.parse('2026-11-26T21:00:00.000Z');
const settings = probeSettings({ rise: 2, fall: 2 });
const target = (name: string) => targetConfig(name, settings);
const targets = [target('rras-eu-1'), target('rras-eu-2')];
const groups = [vpnEuGroup(['rras-eu-1', 'rras-eu-2'])];

function result(at: number, ok: boolean) {
  return probeResult(at, ok, { kind: 'timeout', message: 'no answer within 5 s', durationMs: 5000 }, 12);
}

let dir: string;
let now: number;
const open: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-monitor-'));
  now = T0;
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A monitor on the database file of this test, as a (re)started sstpwatch would have. */
async function start(): Promise<{ store: SqliteStore; monitor: Monitor; registry: Registry }> {
  const store = openSqliteStore({ path: join(dir, 'sstpwatch.db'), log: pino({ level: 'silent' }) });
  open.push(store);
  const registry = new Registry();
  const monitor = await testMonitor(store, targets, groups, { now: () => now, registry });
  return { store, monitor, registry };
}

async function stop(store: SqliteStore): Promise<void> {
  await store.close();
  open.splice(open.indexOf(store), 1);
}

/** Feeds results every 30 s from `now` on. */
function feed(monitor: Monitor, oks: boolean[], name = 'rras-eu-1'): void {
  for (const ok of oks) {
    now += 30_000;
    monitor.handleResult(target(name), 'head', result(now, ok));
  }
}

const incidents = async (store: SqliteStore) => incidentsFrom(await store.transitionsBetween('rras-eu-1', 0, Number.MAX_SAFE_INTEGER));

describe('incidents across restarts', () => {
  it('an incident open at shutdown is still open after a restart, and a down period spanning it stays one incident', async () => {
    let { store, monitor } = await start();
    feed(monitor, [true, true, false, false]);
    const downAt = now;
    expect(monitor.target('rras-eu-1')!.health.state).toBe('down');
    await stop(store);

    ({ store, monitor } = await start());
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'down', since: downAt });
    expect(await incidents(store)).toEqual([{ startedAt: downAt, endedAt: null, cause: 'timeout', message: 'no answer within 5 s' }]);
    feed(monitor, [false, false, true]);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('down');
    await stop(store);

    ({ store, monitor } = await start());
    feed(monitor, [true, true]);
    const upAt = now;
    await store.flush();
    expect(await incidents(store)).toEqual([{ startedAt: downAt, endedAt: upAt, cause: 'timeout', message: 'no answer within 5 s' }]);
  });

  it('a target that was up is up again after a restart, and goes down only after `fall` failures', async () => {
    let { store, monitor } = await start();
    feed(monitor, [true, true]);
    await stop(store);
    ({ store, monitor } = await start());
    expect(monitor.target('rras-eu-1')!.health.state).toBe('up');
    feed(monitor, [false]);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('up');
    feed(monitor, [false]);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('down');
  });

  it('many arriving targets have their recorded state read in one batch read, not a read per target, and each resumes it', async () => {
    // 10,000 targets read one by one were 20,000 queries: a start, or a takeover of a peer's shards, waited on them.
    let { store, monitor } = await start();
    feed(monitor, [true, true, false, false]);
    monitor.setMaintenance('rras-eu-2', { until: now + 10 * 60_000, reason: 'patching' });
    await stop(store);
    store = openSqliteStore({ path: join(dir, 'sstpwatch.db'), log: pino({ level: 'silent' }) });
    open.push(store);
    const calls: string[] = [];
    const counted = new Proxy(store, {
      get: (real, key) => {
        const value = Reflect.get(real, key, real) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(key));
          return (value as (...a: unknown[]) => unknown).apply(real, args);
        };
      },
    }) as Store;
    const arriving = Array.from({ length: 300 }, (_, i) => target(`rras-new-${i}`));
    monitor = await testMonitor(counted, [...targets, ...arriving], groups, { now: () => now });
    expect(calls.filter((call) => call === 'recordedStates')).toHaveLength(1);
    expect(calls.filter((call) => call === 'lastTransition' || call === 'maintenance')).toEqual([]);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('down');
    expect(monitor.target('rras-eu-2')!.health).toMatchObject({ state: 'maintenance', maintenance: { reason: 'patching' } });
    expect(arriving.every((config) => monitor.target(config.name)!.health.state === 'unknown')).toBe(true);
  });
});

describe('maintenance', () => {
  it('is kept across a restart, ends by itself at `until`, and is forgotten once over', async () => {
    let { store, monitor } = await start();
    feed(monitor, [true, true]);
    monitor.setMaintenance('rras-eu-1', { until: now + 10 * 60_000, reason: 'patching' });
    expect(monitor.target('rras-eu-1')!.health.state).toBe('maintenance');
    await stop(store);

    ({ store, monitor } = await start());
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'maintenance', maintenance: { reason: 'patching' } });
    now += 10 * 60_000 - 1;
    monitor.tick(now);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('maintenance');
    now += 1;
    monitor.tick(now);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('unknown'); // not probed since the restart
    expect(await store.maintenance('rras-eu-1')).toBeNull();
    await stop(store);

    ({ store, monitor } = await start());
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'unknown', maintenance: null });
  });

  it('a window that ended while sstpwatch was stopped ends at the restart', async () => {
    let { store, monitor } = await start();
    monitor.setMaintenance('rras-eu-1', { until: now + 60_000, reason: 'reboot' });
    await stop(store);
    now += 5 * 60_000;
    ({ store, monitor } = await start());
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'unknown', maintenance: null });
    expect(await store.maintenance('rras-eu-1')).toBeNull();
  });

  it('excludes maintenance and no-verdict results from uptime, opens no incident for the window, and says so in the metrics', async () => {
    const { store, monitor, registry } = await start();
    const from = now;
    feed(monitor, Array(10).fill(true)); // the first has no verdict yet (rise 2): 9 count
    monitor.setMaintenance('rras-eu-1', { until: now + 3_600_000, reason: 'patching' });
    feed(monitor, Array(10).fill(false)); // in maintenance: none count, no incident
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/sstp_target_state\{target="rras-eu-1",group="vpn-eu",role="server",state="maintenance"\} 1/);
    expect(metrics).not.toMatch(/sstp_target_up\{target="rras-eu-1"/);
    expect(monitor.groups()[0]!.health.serversUp).toBe(0);
    await store.flush();
    expect(await incidents(store)).toEqual([]);
    monitor.clearMaintenance('rras-eu-1');
    const downAt = now; // still failing: it is down (and an incident opens) as soon as maintenance ends
    feed(monitor, Array(5).fill(false)); // 5 count, all failed
    await store.flush();
    expect(await store.uptime('rras-eu-1', from, now + 1)).toEqual({ probes: 14, failures: 5 });
    expect(await incidents(store)).toEqual([{ startedAt: downAt, endedAt: null, cause: 'timeout', message: 'no answer within 5 s' }]);
    expect((await store.transitionsBetween('rras-eu-1', 0, now)).map((t) => `${t.from}->${t.to}`)).toEqual(['unknown->up', 'up->maintenance', 'maintenance->down']);
  });
});

describe('group state', () => {
  it('is ok with every server up, degraded with one down, down with none up, and leaves a server in maintenance out', async () => {
    const { monitor, registry } = await start();
    feed(monitor, [true, true], 'rras-eu-1');
    feed(monitor, [true, true], 'rras-eu-2');
    expect(monitor.groups()[0]!.health).toEqual({ state: 'ok', serversUp: 2, serversTotal: 2 });
    feed(monitor, [false, false], 'rras-eu-2');
    expect(monitor.groups()[0]!.health).toEqual({ state: 'degraded', serversUp: 1, serversTotal: 2 });
    monitor.setMaintenance('rras-eu-2', { until: now + 60_000, reason: 'r' });
    expect(monitor.groups()[0]!.health).toEqual({ state: 'ok', serversUp: 1, serversTotal: 2 });
    feed(monitor, [false, false], 'rras-eu-1');
    expect(monitor.groups()[0]!.health.state).toBe('down');
    return registry.metrics().then((text) => {
      expect(text).toMatch(/sstp_group_servers_up\{group="vpn-eu"\} 0/);
      expect(text).toMatch(/sstp_group_servers\{group="vpn-eu"\} 2/);
    });
  });
});

describe("sstpwatch's own failures (error kind monitor_error)", () => {
  const outOfDescriptors = (at: number) =>
    probeResult(at, false, { kind: 'monitor_error', message: 'sstpwatch could not probe: the sstpwatch process is out of file descriptors (EMFILE during the TCP connect)' });

  it('never count toward fall nor open an incident: the state, the counters and the target series stay; its own metric counts', async () => {
    const { store, monitor, registry } = await start();
    feed(monitor, [true, true]);
    const before = await registry.metrics();
    const upSince = monitor.target('rras-eu-1')!.health.since;
    for (let i = 0; i < 5; i++) {
      now += 30_000;
      monitor.handleResult(target('rras-eu-1'), 'head', outOfDescriptors(now));
    }
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'up', since: upSince, consecutiveFailures: 0, consecutiveSuccesses: 2 });
    const after = await registry.metrics();
    expect(after).toContain('sstpwatch_probe_monitor_errors_total 5');
    const targetSeries = (text: string) => text.split('\n').filter((line) => line.startsWith('sstp_') && line.includes('target="rras-eu-1"'));
    expect(targetSeries(after)).toEqual(targetSeries(before));
    await store.flush();
    expect(await incidents(store)).toEqual([]);
    expect(await store.uptime('rras-eu-1', T0, now + 1)).toEqual({ probes: 1, failures: 0 }); // the first ok had no verdict yet
    expect((await store.history('rras-eu-1', { from: T0, to: now + 1, limit: 100 })).items.filter((r) => r.errorKind === 'monitor_error')).toHaveLength(5);
  });

  it('keep a failing target where the failures had taken it: one real failure after them still completes fall', async () => {
    const { monitor } = await start();
    feed(monitor, [true, true, false]);
    now += 30_000;
    monitor.handleResult(target('rras-eu-1'), 'head', outOfDescriptors(now));
    expect(monitor.target('rras-eu-1')!.health).toMatchObject({ state: 'up', consecutiveFailures: 1 });
    feed(monitor, [false]);
    expect(monitor.target('rras-eu-1')!.health.state).toBe('down');
  });
});

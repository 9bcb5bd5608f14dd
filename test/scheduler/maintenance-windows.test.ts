// Configured maintenance windows through the real monitor and a real SQLite file, time driven by an injected clock.
// The window is Saturday 22:00 Europe/Berlin for 6h on 2026-10-24: the clocks go back from 03:00 to 02:00 inside
// it, so it starts at 20:00Z (22:00 CEST) and ends at 02:00Z (03:00 CET) after six hours of elapsed time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MaintenanceWindowConfig } from '../../src/config/types.js';
import { incidentsFrom } from '../../src/health/incidents.js';
import { MaintenanceCalendar } from '../../src/health/maintenance-calendar.js';
import type { Monitor } from '../../src/scheduler/monitor.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { probeResult, probeSettings, targetConfig, vpnEuGroup } from '../fixtures/domain.js';
import { testMonitor } from '../fixtures/monitor.js';

const WINDOW_START = Date.parse('2026-10-24T20:00:00Z');
const WINDOW_END = Date.parse('2026-10-25T02:00:00Z');
const BEFORE = WINDOW_START - 10 * 60_000;

const patchNight: MaintenanceWindowConfig = {
  name: 'patch-night',
  groups: ['vpn-eu'],
  targets: [],
  every: { kind: 'weekly', days: [6] },
  start: { hour: 22, minute: 0 },
  durationMs: 6 * 3_600_000,
  timezone: 'Europe/Berlin',
};

const settings = probeSettings({ rise: 1, fall: 1 });
const targets = [targetConfig('rras-eu-1', settings), targetConfig('rras-eu-2', settings)];
const groups = [vpnEuGroup(['rras-eu-1', 'rras-eu-2'])];

let dir: string;
let now: number;
const open: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-windows-'));
  now = BEFORE;
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A monitor on this test's database file, as a (re)started sstpwatch has it. */
async function start(windows: MaintenanceWindowConfig[] = [patchNight]) {
  const store = openSqliteStore({ path: join(dir, 'sstpwatch.db'), log: pino({ level: 'silent' }) });
  open.push(store);
  const registry = new Registry();
  const calendar = new MaintenanceCalendar(windows);
  const monitor = await testMonitor(store, targets, groups, { now: () => now, windows: calendar, registry });
  return { store, monitor, registry, calendar };
}

async function stop(store: SqliteStore): Promise<void> {
  await store.close();
  open.splice(open.indexOf(store), 1);
}

/** Moves the clock to `t`, ticking once a second's worth as the scheduler would (one tick per call is enough here). */
function at(monitor: Monitor, t: number): void {
  now = t;
  monitor.tick(t);
}

function probe(monitor: Monitor, ok: boolean, name = 'rras-eu-1'): void {
  monitor.handleResult(targets.find((t) => t.name === name)!, 'head', probeResult(now, ok));
}

const state = (monitor: Monitor, name = 'rras-eu-1') => monitor.target(name)!.health.state;
const transitions = async (store: SqliteStore, name = 'rras-eu-1') => {
  await store.flush();
  return (await store.transitionsBetween(name, 0, Number.MAX_SAFE_INTEGER)).map((t) => `${new Date(t.at).toISOString()} ${t.from}->${t.to}`);
};

async function stateGauge(registry: Registry, target: string): Promise<string> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'sstp_target_state')!;
  const values = metric.values as { labels: Record<string, string>; value: number }[];
  return values.find((v) => v.labels['target'] === target && v.value === 1)!.labels['state']!;
}

describe('a configured maintenance window', () => {
  it('puts every target of the group in maintenance for its span: a server down inside opens no incident and costs no uptime', async () => {
    const { store, monitor, registry } = await start();
    probe(monitor, true);
    expect(state(monitor)).toBe('up');

    at(monitor, WINDOW_START - 1000);
    expect(state(monitor)).toBe('up');
    at(monitor, WINDOW_START);
    expect(state(monitor)).toBe('maintenance');
    expect(state(monitor, 'rras-eu-2')).toBe('maintenance');
    expect(monitor.target('rras-eu-1')!.health.maintenance).toEqual({ until: WINDOW_END, reason: 'maintenance window "patch-night"' });
    expect(await stateGauge(registry, 'rras-eu-1')).toBe('maintenance');

    // Patching: the server stops answering through the repeated hour (00:30Z and 01:30Z are both 02:30 local).
    for (const t of ['2026-10-24T21:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T01:59:59Z']) {
      at(monitor, Date.parse(t));
      probe(monitor, false);
      expect(state(monitor)).toBe('maintenance');
    }
    expect(await stateGauge(registry, 'rras-eu-1')).toBe('maintenance');

    // Six hours after it began (03:00 CET, not 04:00), the window ends and the server shows what it is: down.
    at(monitor, WINDOW_END);
    expect(state(monitor)).toBe('down');
    expect(state(monitor, 'rras-eu-2')).toBe('unknown');
    expect(await transitions(store)).toEqual([
      `${new Date(BEFORE).toISOString()} unknown->up`,
      '2026-10-24T20:00:00.000Z up->maintenance',
      '2026-10-25T02:00:00.000Z maintenance->down',
    ]);
    const incidents = incidentsFrom(await store.transitionsBetween('rras-eu-1', 0, Number.MAX_SAFE_INTEGER));
    expect(incidents.map((i) => new Date(i.startedAt).toISOString())).toEqual(['2026-10-25T02:00:00.000Z']);
    // Only the probe before the window counts: the four failures inside it are excluded.
    expect(await store.uptime('rras-eu-1', 0, Number.MAX_SAFE_INTEGER)).toEqual({ probes: 1, failures: 0 });
  });

  it('counts a result arriving within a second of the start as inside, before the next tick', async () => {
    const { store, monitor } = await start();
    probe(monitor, true);
    now = WINDOW_START + 200; // no tick yet
    probe(monitor, false);
    expect(state(monitor)).toBe('maintenance');
    await store.flush();
    expect(await store.uptime('rras-eu-1', 0, Number.MAX_SAFE_INTEGER)).toEqual({ probes: 1, failures: 0 });
  });

  it('goes on after a restart in the middle of the window, with no transition out and back in', async () => {
    let { store, monitor } = await start();
    probe(monitor, true);
    at(monitor, WINDOW_START);
    at(monitor, Date.parse('2026-10-25T00:45:00Z'));
    await stop(store);

    now = Date.parse('2026-10-25T01:15:00Z'); // restarted inside the repeated hour
    ({ store, monitor } = await start());
    expect(state(monitor)).toBe('maintenance');
    expect(monitor.target('rras-eu-1')!.health.maintenance?.until).toBe(WINDOW_END);
    probe(monitor, false);
    at(monitor, WINDOW_END);
    expect(state(monitor)).toBe('down');
    expect(await transitions(store)).toEqual([
      `${new Date(BEFORE).toISOString()} unknown->up`,
      '2026-10-24T20:00:00.000Z up->maintenance',
      '2026-10-25T02:00:00.000Z maintenance->down',
    ]);
  });

  it('ends at once when sstpwatch restarts after the window ended while it was stopped', async () => {
    let { store, monitor } = await start();
    probe(monitor, true);
    at(monitor, WINDOW_START + 60_000);
    await stop(store);
    now = WINDOW_END + 3_600_000;
    ({ store, monitor } = await start());
    expect(state(monitor)).toBe('unknown'); // what the server did meanwhile was not seen
    expect((await transitions(store)).at(-1)).toBe(`${new Date(now).toISOString()} maintenance->unknown`);
  });

  it('follows a reload in the middle of the window: a removed window ends now, an added one begins now', async () => {
    const { store, monitor, calendar } = await start();
    probe(monitor, true);
    at(monitor, WINDOW_START + 3_600_000);
    expect(state(monitor)).toBe('maintenance');

    now += 60_000;
    calendar.setWindows([]);
    await monitor.setConfig(targets, groups);
    expect(state(monitor)).toBe('up');

    now += 60_000;
    calendar.setWindows([{ ...patchNight, groups: [], targets: ['rras-eu-2'] }]);
    await monitor.setConfig(targets, groups);
    expect(state(monitor)).toBe('up');
    expect(state(monitor, 'rras-eu-2')).toBe('maintenance');
    expect(await transitions(store)).toEqual([
      `${new Date(BEFORE).toISOString()} unknown->up`,
      '2026-10-24T21:00:00.000Z up->maintenance', // first seen at this tick
      '2026-10-24T21:01:00.000Z maintenance->up',
    ]);
  });

  it('beside maintenance set through the API: the longer one holds, and ending the API one leaves the window in force', async () => {
    const { store, monitor } = await start();
    probe(monitor, true);
    at(monitor, WINDOW_START + 60_000);
    const later = WINDOW_END + 3_600_000;
    monitor.setMaintenance('rras-eu-1', { until: later, reason: 'RRAS upgrade' });
    expect(monitor.target('rras-eu-1')!.health.maintenance).toEqual({ until: later, reason: 'RRAS upgrade' });
    expect(await store.maintenance('rras-eu-1')).toEqual({ until: later, reason: 'RRAS upgrade' });

    monitor.clearMaintenance('rras-eu-1');
    expect(await store.maintenance('rras-eu-1')).toBeNull();
    expect(monitor.target('rras-eu-1')!.health.maintenance).toEqual({ until: WINDOW_END, reason: 'maintenance window "patch-night"' });
    expect(state(monitor)).toBe('maintenance');

    // A shorter API maintenance inside the window changes nothing visible, and does not end the window when it expires.
    monitor.setMaintenance('rras-eu-1', { until: WINDOW_START + 2 * 3_600_000, reason: 'short' });
    at(monitor, WINDOW_START + 3 * 3_600_000);
    expect(await store.maintenance('rras-eu-1')).toBeNull();
    expect(state(monitor)).toBe('maintenance');
    at(monitor, WINDOW_END);
    expect(state(monitor)).toBe('up');
  });
});

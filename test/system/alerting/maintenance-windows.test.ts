// A configured maintenance window through the real service (in process, a real SQLite file, time driven by the
// service's clock): the API and the page show it, and the real alert rules, fed the service's own /metrics through
// the real promtool, stay silent for a server that is down inside the window and fire once it has ended.
//
// The window is the last Sunday of March at 01:30 Europe/Berlin for 3h: on 2026-03-29 the clocks jump from 02:00
// to 03:00 inside it, so it runs from 00:30Z (01:30 CET) to 03:30Z (05:30 CEST).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createService } from '../../../src/service.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { configYaml, okResult, startInProcess, TOKEN, type InProcess } from '../../fixtures/in-process.js';
import { runTool } from '../../fixtures/prometheus.js';

const RULES = fileURLToPath(new URL('../../../prometheus/alerts.yml', import.meta.url));
const WINDOW = [
  'maintenance_windows:',
  '  - { name: patch-night, groups: [vpn-test], every: "last sunday", start: "01:30", duration: 3h, timezone: Europe/Berlin }',
].join('\n');
const START = '2026-03-29T00:30:00.000Z';
const END = '2026-03-29T03:30:00.000Z';

let run: InProcess | undefined;
let clock = Date.parse('2026-03-29T00:20:00Z');
let failing = false;
const scratch: string[] = [];

afterEach(async () => {
  await run?.close();
  run = undefined;
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function refused(): ProbeResult {
  return { ...okResult(clock), ok: false, errorKind: 'connect_refused', message: 'connection refused', statusCode: null, httpVersion: null };
}

async function start(top = WINDOW): Promise<InProcess> {
  clock = Date.parse('2026-03-29T00:20:00Z');
  failing = false;
  const probe = () => Promise.resolve(failing ? refused() : okResult(clock));
  run = await startInProcess(configYaml([{ name: 'rras-a' }, { name: 'rras-b' }], top), { now: () => clock, probes: { head: probe } });
  return run;
}

/** Moves the service's clock and lets the monitor see it, as its once-a-second tick does. */
function moveTo(iso: string): void {
  clock = Date.parse(iso);
  run!.service.monitor.tick(clock);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies and text alike; the assertions check their shape
async function get(path: string): Promise<any> {
  const res = await run!.service.app.inject({ method: 'GET', url: path });
  expect(res.statusCode, res.body).toBe(200);
  return path === '/' || path === '/metrics' ? res.body : res.json();
}

/**
 * Runs the real alert rules over the service's /metrics as scraped now, held for 30 minutes, and expects no
 * SSTPServerDown: promtool's exit code and output.
 */
function serverDownStaysSilent(metricsText: string) {
  const series = metricsText
    .split('\n')
    .filter((line) => line.startsWith('sstp_') && !/_bucket\{/.test(line))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = ['job="sstpwatch"', 'instance="sw:9470"', ...(match[3] ? [match[3]] : [])].join(',');
      return `      - series: '${match[1]}{${labels}}'\n        values: '${match[4]}x40'`;
    });
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-window-rules-'));
  scratch.push(dir);
  const file = join(dir, 'window.test.yml');
  writeFileSync(
    file,
    [
      `rule_files: [${JSON.stringify(RULES)}]`,
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      ...series,
      '    alert_rule_test:',
      '      - { eval_time: 30m, alertname: SSTPServerDown, exp_alerts: [] }',
    ].join('\n'),
  );
  return runTool('promtool', ['test', 'rules', file]);
}

describe('a configured maintenance window in the running service', () => {
  it('puts the group in maintenance across the DST jump: API, page and the real alert rules agree', async () => {
    await start();
    await run!.service.scheduler.probeNow('rras-a');
    expect(run!.service.monitor.target('rras-a')!.health.state).toBe('up');

    let status = await get('/api/v1/status');
    expect(status.groups[0].scheduled_maintenance).toEqual({ current: null, next: { window: 'patch-night', start: START, end: END } });
    expect(status.targets[0].scheduled_maintenance.next.start).toBe(START);

    moveTo('2026-03-29T01:15:00Z'); // 03:15 CEST, just after the jump
    failing = true;
    await run!.service.scheduler.probeNow('rras-a');
    status = await get('/api/v1/status');
    expect(status.summary).toMatchObject({ maintenance: 2, down: 0 });
    const [a] = status.targets;
    expect(a).toMatchObject({ name: 'rras-a', state: 'maintenance', maintenance: { until: END, reason: 'maintenance window "patch-night"' } });
    // The next one: the last Sunday of April, 01:30 CEST = 23:30Z the day before.
    expect(a.scheduled_maintenance).toEqual({
      current: { window: 'patch-night', start: START, end: END },
      next: { window: 'patch-night', start: '2026-04-25T23:30:00.000Z', end: '2026-04-26T02:30:00.000Z' },
    });
    expect(status.groups[0].scheduled_maintenance.current.end).toBe(END);
    expect((await get('/api/v1/targets/rras-a')).scheduled_maintenance.current.window).toBe('patch-night');

    const page: string = await get('/');
    expect(page).toContain('data-window="patch-night"');
    expect(page).toContain('last sunday 01:30 Europe/Berlin, 3h');
    expect(page).toMatch(/in progress<\/strong> until/);

    const metrics: string = await get('/metrics');
    expect(metrics).toMatch(/sstp_target_state\{[^}]*target="rras-a"[^}]*state="maintenance"[^}]*\} 1/);
    const silent = serverDownStaysSilent(metrics);
    expect(silent.code, silent.output).toBe(0);

    // Ending the API's maintenance does not end the configured window.
    const deleted = await run!.service.app.inject({ method: 'DELETE', url: '/api/v1/targets/rras-a/maintenance', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toMatchObject({ state: 'maintenance', maintenance: { until: END } });

    moveTo(END);
    expect(run!.service.monitor.target('rras-a')!.health.state).toBe('down');
    const after = serverDownStaysSilent(await get('/metrics'));
    expect(after.code, 'the same rules over the same server, after the window, must fire').not.toBe(0);
    expect(after.output).toMatch(/got:\[\s*0:\s*Labels:\{alertname="SSTPServerDown"[^}]*target="rras-a"/);
  });

  it('follows a reload in the middle of the window', async () => {
    await start();
    moveTo('2026-03-29T01:00:00Z');
    expect(run!.service.monitor.target('rras-b')!.health.state).toBe('maintenance');

    run!.setYaml(configYaml([{ name: 'rras-a' }, { name: 'rras-b' }], WINDOW.replace('groups: [vpn-test]', 'targets: [rras-a]')));
    expect(await run!.service.reload()).toMatchObject({ ok: true });
    expect(run!.service.monitor.target('rras-a')!.health.state).toBe('maintenance');
    expect(run!.service.monitor.target('rras-b')!.health.state).toBe('unknown');
    const status = await get('/api/v1/status');
    expect(status.groups[0].scheduled_maintenance).toBeNull();
    expect(status.targets[1].scheduled_maintenance).toBeNull();

    run!.setYaml(configYaml([{ name: 'rras-a' }, { name: 'rras-b' }]));
    expect(await run!.service.reload()).toMatchObject({ ok: true });
    expect(run!.service.monitor.target('rras-a')!.health.state).toBe('unknown');
  });

  it('goes on across a restart in the middle of the window, with no transition out and back in', async () => {
    await start();
    moveTo('2026-03-29T00:40:00Z');
    expect(run!.service.monitor.target('rras-a')!.health.state).toBe('maintenance');
    await run!.service.stop();

    clock = Date.parse('2026-03-29T01:10:00Z'); // restarted after the jump, on the same database file
    const again = await createService(run!.parse(configYaml([{ name: 'rras-a' }, { name: 'rras-b' }], WINDOW)), {
      log: pino({ level: 'silent' }),
      now: () => clock,
      probes: { head: () => Promise.resolve(okResult(clock)) },
    });
    try {
      expect(again.monitor.target('rras-a')!.health).toMatchObject({ state: 'maintenance', maintenance: { until: Date.parse(END) } });
      await again.scheduler.probeNow('rras-a');
      again.monitor.tick(Date.parse(END));
      clock = Date.parse(END);
      await again.scheduler.probeNow('rras-a');
      expect(again.monitor.target('rras-a')!.health.state).toBe('up');
      await again.store.flush();
      const transitions = (await again.store.transitionsBetween('rras-a', 0, Number.MAX_SAFE_INTEGER)).map((t) => `${new Date(t.at).toISOString()} ${t.from}->${t.to}`);
      // The probe inside the window (ok, rise 1) decided the state underneath: the window ends straight into up.
      expect(transitions).toEqual(['2026-03-29T00:40:00.000Z unknown->maintenance', `${END} maintenance->up`]);
    } finally {
      await again.stop();
    }
  });
});

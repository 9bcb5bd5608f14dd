// The fleet dashboard with two sstpwatch instances probing the same fake RRAS servers, each scraped by the real
// Prometheus as its own `instance`: every panel that counts or judges targets gives the numbers one instance
// gives alone (one down server counts 1, not 2), and "Instances that disagree" lists each instance's view of a
// target the two see differently.
//
// The two configs are the same for vpn-east (a VIP, two servers up, one answering 404 = down) and vpn-west (one
// server up). Only vpn-split differs: its server rras-x points at an answering server in one config and at the
// 404 server in the other, so the instances disagree about it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates, VPN_HOSTNAME } from '../fixtures/certs.js';
import { closeAllRras, startRras } from '../fixtures/fake-rras.js';
import { prometheusConfig, startPrometheus, stopAllDaemons, type RunningPrometheus } from '../fixtures/prometheus.js';
import { freePort, startService, waitFor, type RunningService } from '../fixtures/service.js';
import { dataPanels, interpolate, loadDashboard, type DashboardPanel } from './dashboard-queries.js';

const EAST = 'vpn-east';
const WEST = 'vpn-west';
const SPLIT = 'vpn-split';
const DISAGREE = 'Instances that disagree';
/** Panels with nothing to count in this scenario either way (no rules loaded, no deep check). */
const EMPTY_HERE = new Set(['Firing SSTP alerts', 'Deep SSTP check']);

describe('the fleet dashboard with two sstpwatch instances probing the same servers', () => {
  let dir: string;
  const services: RunningService[] = [];
  let prometheus: RunningPrometheus;
  let sees: { up: string; down: string };
  let startedAt: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-instances-'));
    const certs = await testCertificates();
    const [e1, e2, e3, vip, w1, x] = await Promise.all([
      startRras(certs.valid),
      startRras(certs.valid),
      startRras(certs.valid, 404),
      startRras(certs.valid),
      startRras(certs.valid),
      startRras(certs.valid),
    ]);
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    const config = (port: number, splitUrl: string): string =>
      [
        `listen: "127.0.0.1:${port}"`,
        `database: ./state-${port}/sstpwatch.db`,
        'defaults:',
        '  interval: 1s',
        '  timeout: 800ms',
        '  rise: 1',
        '  fall: 1',
        '  tls: { ca_file: ./ca.pem }',
        'groups:',
        `  - name: ${EAST}`,
        `    hostname: ${VPN_HOSTNAME}`,
        `    vip: "${vip.url}"`,
        '    servers:',
        `      - { name: rras-e1, url: "${e1.url}" }`,
        `      - { name: rras-e2, url: "${e2.url}" }`,
        `      - { name: rras-e3, url: "${e3.url}" }`,
        `  - name: ${WEST}`,
        `    hostname: ${VPN_HOSTNAME}`,
        '    servers:',
        `      - { name: rras-w1, url: "${w1.url}" }`,
        `  - name: ${SPLIT}`,
        `    hostname: ${VPN_HOSTNAME}`,
        '    servers:',
        `      - { name: rras-x, url: "${splitUrl}" }`,
      ].join('\n');
    const [upPort, downPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'up.yml'), config(upPort, x.url));
    writeFileSync(join(dir, 'down.yml'), config(downPort, e3.url));
    sees = { up: `127.0.0.1:${upPort}`, down: `127.0.0.1:${downPort}` };
    services.push(...(await Promise.all([startService(join(dir, 'up.yml'), upPort), startService(join(dir, 'down.yml'), downPort)])));
    prometheus = await startPrometheus({ config: prometheusConfig({ job: 'sstpwatch', targets: [sees.up, sees.down], interval: '1s' }) });
    startedAt = Date.now();
    await prometheus.waitForTargetsUp();
    await waitFor(
      'both instances to judge every target (rras-e3 down on both, rras-x up on one and down on the other)',
      async () => {
        const [down, up, unknown] = await Promise.all([
          prometheus.query('sstp_target_state{state="down"} == 1'),
          prometheus.query('sstp_target_state{state="up"} == 1'),
          prometheus.query('sstp_target_state{state="unknown"} == 1'),
        ]);
        return down.length === 3 && up.length === 9 && unknown.length === 0;
      },
      40_000,
    );
    // A few scrapes more, so that the time-range panels have samples.
    await new Promise((r) => setTimeout(r, 4_000));
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...services.map((s) => s.stop()), stopAllDaemons(), closeAllRras()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fleet = loadDashboard('sstp-fleet.json');
  const instantPanels = (): DashboardPanel[] => dataPanels(fleet).filter((p) => p.targets?.[0]?.instant);

  /** A panel's instant query as Grafana sends it, its samples keyed by their labels. */
  async function panel(title: string, variables: { instance: string | string[]; group: string[] }): Promise<Record<string, number>> {
    const query = dataPanels(fleet).find((p) => p.title === title)!.targets![0]!;
    const range = `${Math.ceil((Date.now() - startedAt) / 1000) + 5}s`;
    const expr = interpolate(query.expr!, { variables: { job: '.*', site: '.*', ...variables }, macros: { __range: range, __rate_interval: '4s', __interval: '1s' } });
    const samples = await prometheus.query(expr);
    return Object.fromEntries(
      samples.map((s) => {
        const { instance, ...labels } = s.metric;
        const key = Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',');
        return [instance && title === DISAGREE ? `${key},instance=${instance}` : key, Number(s.value.toFixed(3))];
      }),
    );
  }

  it('one down server counts 1, not once per instance', async () => {
    const agreed = [EAST, WEST];
    expect(await panel('Servers down', { instance: '.*', group: agreed })).toEqual({ '': 1 });
    expect(await panel('VIPs down', { instance: '.*', group: agreed })).toEqual({ '': 0 });
    expect(await panel('Servers up per group', { instance: '.*', group: agreed })).toEqual({ [`group=${EAST}`]: 2, [`group=${WEST}`]: 1 });
    // east: a server down, two up: DEGRADED (1); west: OK (2).
    expect(await panel('Groups', { instance: '.*', group: agreed })).toEqual({ [`group=${EAST}`]: 1, [`group=${WEST}`]: 2 });
    expect(await panel('Failing probes now', { instance: '.*', group: agreed })).toEqual({ '': 1 });
  });

  it('every instant panel gives with both instances what each instance gives alone, where they agree', async () => {
    const agreed = [EAST, WEST];
    const differences: string[] = [];
    let compared = 0;
    for (const { title } of instantPanels()) {
      if (title === DISAGREE) continue;
      const both = await panel(title!, { instance: '.*', group: agreed });
      if (Object.keys(both).length === 0 && !EMPTY_HERE.has(title!)) differences.push(`"${title}": no series`);
      for (const alone of [sees.up, sees.down]) {
        const one = await panel(title!, { instance: [alone], group: agreed });
        if (JSON.stringify(one) !== JSON.stringify(both)) differences.push(`"${title}" ${alone}: ${JSON.stringify(one)} alone, ${JSON.stringify(both)} with both`);
      }
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(12);
    expect(differences).toEqual([]);
  });

  it(`"${DISAGREE}" shows each instance's view of the target they disagree on, and nothing else`, async () => {
    const all = [EAST, WEST, SPLIT];
    const rows = await panel(DISAGREE, { instance: '.*', group: all });
    const key = (instance: string): string => `__name__=sstp_target_up,group=${SPLIT},job=sstpwatch,role=server,target=rras-x,instance=${instance}`;
    expect(rows).toEqual({ [key(sees.up)]: 1, [key(sees.down)]: 0 });
    // A target counts DOWN when any instance sees it down.
    expect(await panel('Servers down', { instance: '.*', group: all })).toEqual({ '': 2 });
    expect(await panel('Servers down', { instance: [sees.up], group: all })).toEqual({ '': 1 });
  });
});

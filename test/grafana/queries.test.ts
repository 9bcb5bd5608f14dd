// Every query of the committed dashboards against the real Debian Prometheus after it scraped a real sstpwatch
// (child process) probing fake RRAS servers: no query errors, every query returns data, every metric a query
// reads is one sstpwatch exports. Grafana cannot run here; this is the next best proof that the panels work.
//
// The scenario gives every panel something to show: two groups, a VIP, a certificate 10 days from expiry
// (SSTPCertificateExpiresSoon), a server answering 404 (unexpected_status), a server that stops mid-run
// (connect_refused, a DOWN state, SSTPServerDown firing), and deep SSTP checks (`check: sstp`): one against
// a fake SSTP server that accepts the call, one against the fake RRAS server that stops. The rules are
// prometheus/alerts.yml and alerts-certificates.yml with every `for:` shortened to 1s, so that the ALERTS
// series the fleet's alert table reads exists.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../src/demo/fake-rras.js';
import { startFakeSstp, type FakeSstp } from '../../src/demo/fake-sstp.js';
import { VPN_HOSTNAME } from '../fixtures/certs.js';
import { startRras } from '../fixtures/fake-rras.js';
import { runTool, shortenForDurations, type RunningPrometheus } from '../fixtures/prometheus.js';
import { serviceSetup, startScrapingPrometheus, type ServiceSetup } from '../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../fixtures/service.js';
import {
  DASHBOARD_FILES,
  dataPanels,
  exposedNames,
  interpolate,
  loadDashboard,
  metricNames,
  parseLabelValues,
  type DashboardJson,
  type DashboardQuery,
} from './dashboard-queries.js';

const RULE_FILES = ['alerts.yml', 'alerts-certificates.yml'];
const rules = (name: string): string => readFileSync(fileURLToPath(new URL(`../../prometheus/${name}`, import.meta.url)), 'utf8');
const NORTH = 'vpn-north';
const SOUTH = 'vpn-south';
/** The target the target dashboard is checked with in depth: it answers, then stops. */
const STOPPING = 'rras-n2';
/** Series Prometheus makes itself, not sstpwatch: ALERTS (from the rules). */
const PROMETHEUS_SERIES = new Set(['ALERTS']);
/** Prometheus' step for range queries = Grafana's $__interval here; the scrape interval is 1 s. */
const STEP_S = 1;
const SCRAPE_S = 1;
/** Grafana's $__rate_interval: max($__interval + scrape interval, 4 * scrape interval). */
const RATE_INTERVAL = `${Math.max(STEP_S + SCRAPE_S, 4 * SCRAPE_S)}s`;

/** The `job` and `instance` variables at All, as Grafana sends them. */
const ALL_INSTANCES = { job: '.*', site: '.*', instance: '.*' };
/** Panels that are empty by design with one sstpwatch instance (instances.test.ts fills them). */
const EMPTY_WITH_ONE_INSTANCE = new Set(['Instances that disagree']);

/** /api/v1/series answers with label sets. */
type PromSeries = Record<string, string>;

describe('dashboard queries against a real Prometheus scraping sstpwatch', () => {
  let setup: ServiceSetup | undefined;
  let service: RunningService;
  let prometheus: RunningPrometheus;
  let stopping: FakeRras;
  let sstp: FakeSstp | undefined;
  let startedAt: number;
  let endedAt: number;
  let metricsText: string;

  beforeAll(async () => {
    setup = await serviceSetup('grafana');
    const certs = setup.certs;
    const [n1, n2, vip, s1, s2] = await Promise.all([
      startRras(certs.valid),
      startRras(certs.valid),
      startRras(certs.valid),
      startRras(certs.expiringIn10Days),
      startRras(null, 404),
    ]);
    stopping = n2;
    sstp = await startFakeSstp({ tls: null, behavior: 'ack' });
    setup.writeConfig([
      'database: ./state/sstpwatch.db',
      'allow_fast_sstp_interval: true',
      'defaults:',
      '  interval: 1s',
      '  timeout: 800ms',
      '  rise: 1',
      '  fall: 2',
      '  tls: { ca_file: ./ca.pem }',
      'groups:',
      `  - name: ${NORTH}`,
      `    hostname: ${VPN_HOSTNAME}`,
      `    vip: "${vip.url}"`,
      '    servers:',
      `      - { name: rras-n1, url: "${n1.url}" }`,
      `      - { name: ${STOPPING}, url: "${n2.url}", check: sstp, sstp_interval: 1s }`,
      `  - name: ${SOUTH}`,
      `    hostname: ${VPN_HOSTNAME}`,
      '    servers:',
      `      - { name: rras-s1, url: "${s1.url}" }`,
      `      - { name: rras-s2, url: "${s2.url}", offload: true }`,
      `      - { name: rras-s3, url: "${sstp.url}", offload: true, check: sstp, sstp_interval: 1s }`,
    ]);
    service = await setup.start();
    startedAt = Date.now();
    prometheus = await startScrapingPrometheus(
      { job: 'sstpwatch', targets: [setup.address], interval: `${SCRAPE_S}s`, ruleFiles: RULE_FILES },
      { files: Object.fromEntries(RULE_FILES.map((name) => [name, shortenForDurations(rules(name), '1s')])) },
    );
    await waitFor(
      'Prometheus to see the five answering targets up',
      async () => (await prometheus.query('sstp_target_state{state="up"} == 1')).length === 5,
      30_000,
    );
    // A few seconds of history before the stop, so that rates and quantiles have samples on both sides.
    await new Promise((r) => setTimeout(r, 5_000));
    await stopping.setBehavior('stopped');
    await waitFor(
      `SSTPServerDown firing for ${STOPPING}`,
      async () => (await prometheus.query(`ALERTS{alertname="SSTPServerDown", alertstate="firing", target="${STOPPING}"}`)).length === 1,
      40_000,
    );
    await waitFor(
      'SSTPCertificateExpiresSoon firing for rras-s1',
      async () => (await prometheus.query('ALERTS{alertname="SSTPCertificateExpiresSoon", alertstate="firing", target="rras-s1"}')).length === 1,
      20_000,
    );
    // Two more scrapes after the failure, so that the failure kinds have a rate.
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
    endedAt = Date.now();
    metricsText = (await service.get('/metrics')).body;
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([setup?.close(), sstp?.close()]);
  });

  const rangeSeconds = (): string => `${Math.ceil((Date.now() - startedAt) / 1000) + 5}s`;

  async function labelValues(query: string, variables: Record<string, string | string[]>): Promise<string[]> {
    const { selector, label } = parseLabelValues(query);
    const match = interpolate(selector, { variables, macros: {} });
    const series = await prometheus.api<PromSeries[]>(
      `series?match[]=${encodeURIComponent(match)}&start=${startedAt / 1000}&end=${Date.now() / 1000}`,
    );
    return [...new Set(series.map((s) => s[label]).filter((v): v is string => v !== undefined))].sort();
  }

  /** Runs one panel query as Grafana would: an instant query at the end, or a range query over the run. */
  async function run(query: DashboardQuery, variables: Record<string, string | string[]>): Promise<{ expr: string; series: number }> {
    const expr = interpolate(query.expr!, { variables, macros: { __rate_interval: RATE_INTERVAL, __interval: `${STEP_S}s`, __range: rangeSeconds() } });
    if (query.instant) {
      const data = await prometheus.api<{ result: unknown[] }>(`query?query=${encodeURIComponent(expr)}&time=${endedAt / 1000}`);
      return { expr, series: data.result.length };
    }
    const data = await prometheus.api<{ result: unknown[] }>(
      `query_range?query=${encodeURIComponent(expr)}&start=${Math.floor(startedAt / 1000)}&end=${Math.ceil(endedAt / 1000)}&step=${STEP_S}`,
    );
    return { expr, series: data.result.length };
  }

  async function runAll(dashboard: DashboardJson, variables: Record<string, string | string[]>): Promise<string[]> {
    const problems: string[] = [];
    for (const panel of dataPanels(dashboard)) {
      for (const query of panel.targets ?? []) {
        try {
          const { expr, series } = await run(query, { ...ALL_INSTANCES, ...variables });
          if (series === 0 && !EMPTY_WITH_ONE_INSTANCE.has(panel.title!)) problems.push(`"${panel.title}" ${query.refId}: no series for\n${expr}`);
        } catch (err) {
          problems.push(`"${panel.title}" ${query.refId}: ${(err as Error).message}`);
        }
      }
    }
    return problems;
  }

  it('the variables list the groups and targets Prometheus scraped', async () => {
    const fleet = loadDashboard('sstp-fleet.json');
    const target = loadDashboard('sstp-target.json');
    const query = (d: DashboardJson, name: string): string => d.templating.list.find((v) => v.name === name)!.query!;
    expect(await labelValues(query(fleet, 'job'), {})).toEqual(['sstpwatch']);
    expect(await labelValues(query(fleet, 'instance'), { job: '.*', site: '.*' })).toHaveLength(1);
    expect(await labelValues(query(fleet, 'group'), ALL_INSTANCES)).toEqual([NORTH, SOUTH]);
    expect(await labelValues(query(target, 'group'), ALL_INSTANCES)).toEqual([NORTH, SOUTH]);
    expect(await labelValues(query(target, 'target'), { ...ALL_INSTANCES, group: NORTH })).toEqual(['rras-n1', STOPPING, `${NORTH}-vip`]);
    expect(await labelValues(query(target, 'target'), { ...ALL_INSTANCES, group: SOUTH })).toEqual(['rras-s1', 'rras-s2', 'rras-s3']);
  });

  it('every fleet query runs and returns data, with all groups and with one', async () => {
    const fleet = loadDashboard('sstp-fleet.json');
    expect(await runAll(fleet, { group: [NORTH, SOUTH] })).toEqual([]);
    expect(await runAll(fleet, { group: [NORTH] })).toEqual([]);
  });

  it(`every target query runs and returns data for ${STOPPING} (answered, then stopped)`, async () => {
    expect(await runAll(loadDashboard('sstp-target.json'), { group: NORTH, target: STOPPING })).toEqual([]);
  });

  it('every target query runs without an error for every target', async () => {
    const target = loadDashboard('sstp-target.json');
    const errors: string[] = [];
    for (const [group, name] of [[NORTH, 'rras-n1'], [NORTH, `${NORTH}-vip`], [SOUTH, 'rras-s1'], [SOUTH, 'rras-s2'], [SOUTH, 'rras-s3']] as const) {
      for (const panel of dataPanels(target)) {
        for (const q of panel.targets ?? []) {
          await run(q, { ...ALL_INSTANCES, group, target: name }).catch((err: Error) => errors.push(`${name} "${panel.title}": ${err.message}`));
        }
      }
    }
    expect(errors).toEqual([]);
  });

  it('the panels show what the scenario did', async () => {
    const fleet = loadDashboard('sstp-fleet.json');
    const expr = (title: string): string => dataPanels(fleet).find((p) => p.title === title)!.targets![0]!.expr!;
    const instant = async (title: string): Promise<Record<string, number>> => {
      const e = interpolate(expr(title), { variables: { ...ALL_INSTANCES, group: [NORTH, SOUTH] }, macros: { __range: rangeSeconds(), __rate_interval: RATE_INTERVAL, __interval: '1s' } });
      const samples = await prometheus.query(e);
      return Object.fromEntries(samples.map((s) => [s.metric.target ?? s.metric.group ?? s.metric.alertname ?? '', s.value]));
    };
    // Group state codes: north has a server down and one up (degraded, 1); south's 404 server is down and
    // rras-s1 up (degraded, 1).
    expect(await instant('Groups')).toEqual({ [NORTH]: 1, [SOUTH]: 1 });
    expect(await instant('Servers down')).toEqual({ '': 2 });
    const days = await instant('Certificate days left');
    expect(days['rras-s1']).toBeGreaterThan(9);
    expect(days['rras-s1']).toBeLessThan(11);
    expect(Object.keys(days)[0]).toBe('rras-s1');
    expect(days['rras-s2']).toBeUndefined();
    const availability = await instant('Availability over the time range');
    expect(availability['rras-s2']).toBe(0);
    expect(availability['rras-n1']).toBe(1);
    expect(availability[STOPPING]).toBeGreaterThan(0);
    expect(availability[STOPPING]).toBeLessThan(1);
    const deep = await instant('Deep SSTP check');
    expect(deep).toEqual({ [STOPPING]: 0, 'rras-s3': 1 });
  });

  it("sstpwatch's /metrics with every family present (targets up and down, certificates, deep checks) passes promtool check metrics", () => {
    for (const family of ['sstp_target_up', 'sstp_cert_not_after_timestamp_seconds', 'sstp_handshake_success', 'sstp_cert_warning_threshold_seconds', 'sstpwatch_scheduler_lag_seconds_bucket', 'sstpwatch_config_last_reload_successful', 'sstpwatch_store_pending_results', 'process_cpu_seconds_total']) {
      expect(exposedNames(metricsText).has(family), family).toBe(true);
    }
    const run = runTool('promtool', ['check', 'metrics'], undefined, metricsText);
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it('every metric a query reads is one sstpwatch exports', () => {
    const exposed = exposedNames(metricsText);
    const used = new Set<string>();
    for (const file of DASHBOARD_FILES) {
      const dashboard = loadDashboard(file);
      for (const v of dashboard.templating.list) if (v.type === 'query') for (const m of metricNames(parseLabelValues(v.query!).selector)) used.add(m);
      for (const panel of dataPanels(dashboard)) for (const q of panel.targets ?? []) for (const m of metricNames(q.expr!)) used.add(m);
    }
    expect(used.size).toBeGreaterThan(8);
    const missing = [...used].filter((m) => !exposed.has(m) && !PROMETHEUS_SERIES.has(m));
    expect(missing, `not in sstpwatch's /metrics:\n${[...exposed].filter((n) => n.startsWith('sstp_')).join('\n')}`).toEqual([]);
  });
});

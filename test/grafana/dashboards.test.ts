// The committed dashboards: up to date with their TypeScript source, every panel complete (title, unit,
// datasource variable), and coloured by the same numbers as prometheus/alerts.yml.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboards, render } from '../../grafana/src/build.js';
import { ALERT_THRESHOLDS } from '../../grafana/src/common.js';
import { DEFAULT_CERTIFICATE_THRESHOLDS, DEFAULT_SLOW_THRESHOLD_MS } from '../../src/config/policy.js';
import {
  DASHBOARD_FILES,
  dashboardPath,
  dataPanels,
  interpolate,
  loadDashboard,
  metricNames,
  parseLabelValues,
  type DashboardJson,
  type DashboardPanel,
} from './dashboard-queries.js';

const DATASOURCE_UID = '${datasource}';

interface Rule {
  alert?: string;
  expr: string;
}

function alertRules(): Rule[] {
  return ['alerts.yml', 'alerts-certificates.yml'].flatMap((name) => {
    const file = fileURLToPath(new URL(`../../prometheus/${name}`, import.meta.url));
    const doc = parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    return doc.groups.flatMap((g) => g.rules);
  });
}

function rulesNamed(name: string): string[] {
  const exprs = alertRules().filter((r) => r.alert === name).map((r) => r.expr);
  expect(exprs.length, `alert ${name} in prometheus/alerts.yml`).toBeGreaterThan(0);
  return exprs;
}

function thresholdValues(panel: DashboardPanel): Array<number | null> {
  return (panel.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value);
}

function panelsWith(dashboard: DashboardJson, metric: string): DashboardPanel[] {
  return dataPanels(dashboard).filter((p) => (p.targets ?? []).some((t) => t.expr?.includes(metric)));
}

describe('grafana/dashboards/*.json', () => {
  it.each(DASHBOARD_FILES)('%s is what `npm run dashboards` generates from grafana/src', (file) => {
    const generated = dashboards()[file];
    expect(generated, `grafana/src/build.ts renders ${file}`).toBeDefined();
    const committed = readFileSync(dashboardPath(file), 'utf8');
    // On failure: run `npm run dashboards` and commit the JSON with the source change.
    expect(committed).toBe(render(generated!));
  });

  it('build.ts renders exactly the committed files, no more', () => {
    expect(Object.keys(dashboards()).sort()).toEqual([...DASHBOARD_FILES].sort());
  });

  describe.each(DASHBOARD_FILES)('%s', (file) => {
    const dashboard = loadDashboard(file);
    const panels = dataPanels(dashboard);

    it('has a uid, a default time range and a refresh interval', () => {
      expect(dashboard.uid).toMatch(/^sstp-/);
      expect(dashboard.time?.from).toMatch(/^now-\d+[mhd]$/);
      expect(dashboard.time?.to).toBe('now');
      expect(dashboard.refresh).toMatch(/^\d+[sm]$/);
    });

    it('picks its Prometheus with a datasource variable', () => {
      const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
      expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
        expect(v.datasource, `variable ${v.name}`).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
        expect(() => parseLabelValues(v.query ?? ''), `variable ${v.name}`).not.toThrow();
      }
    });

    it('names no datasource uid other than the variable, anywhere', () => {
      const uids: string[] = [];
      JSON.stringify(dashboard, (key, value: unknown) => {
        if (key === 'datasource' && value && typeof value === 'object' && 'uid' in value) uids.push(String(value.uid));
        return value;
      });
      expect(uids.length).toBeGreaterThan(panels.length);
      expect(new Set(uids)).toEqual(new Set([DATASOURCE_UID]));
    });

    it('gives every panel a title, a unit, a datasource reference and at least one query', () => {
      expect(panels.length).toBeGreaterThan(5);
      for (const panel of panels) {
        const where = `panel ${panel.id} "${panel.title}"`;
        expect(panel.title, where).toBeTruthy();
        expect(panel.fieldConfig?.defaults?.unit, where).toBeTruthy();
        expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
        expect(panel.targets?.length, where).toBeGreaterThan(0);
        for (const query of panel.targets ?? []) {
          expect(query.expr, where).toBeTruthy();
          expect(query.refId, where).toMatch(/^[A-Z]$/);
          expect(query.datasource, where).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
        }
      }
    });

    it('gives panels unique ids and titles', () => {
      const ids = dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((i) => i.id)]);
      expect(new Set(ids).size).toBe(ids.length);
      const titles = panels.map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
    });

    it('uses only the variables it defines and Grafana macros', () => {
      const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, 'x']));
      const macros = { __rate_interval: '1m', __range: '1h', __interval: '1m' };
      for (const panel of panels) for (const q of panel.targets ?? []) expect(() => interpolate(q.expr!, { variables, macros })).not.toThrow();
    });
  });

  describe('thresholds are the alert rules\' numbers', () => {
    it('the alert rules compare against the thresholds sstpwatch exports per target, the panels default to the policy\'s', () => {
      const cert = rulesNamed('SSTPCertificateExpiresSoon').join('\n');
      expect(cert).toContain('< on (job, instance, target) group_left () sstp_cert_warning_threshold_seconds');
      expect(cert).toContain('< on (job, instance, target) group_left () sstp_cert_critical_threshold_seconds');
      expect(cert).not.toMatch(/\* 86400/);
      const slow = rulesNamed('SSTPProbeSlow').join('\n');
      expect(slow).toMatch(/histogram_quantile\(0\.95,/);
      expect(slow).toContain('> on (job, instance, target) group_left () sstp_probe_slow_threshold_seconds');
      expect(rulesNamed('SSTPChainCertificateExpiresSoon').join('\n')).toContain('group_left () sstp_cert_warning_threshold_seconds');
      expect(ALERT_THRESHOLDS).toMatchObject({ certWarningDays: DEFAULT_CERTIFICATE_THRESHOLDS.warnDays, certCriticalDays: DEFAULT_CERTIFICATE_THRESHOLDS.criticalDays, probeSlowSeconds: DEFAULT_SLOW_THRESHOLD_MS / 1000 });
      expect(rulesNamed('SSTPProbesStale').join('\n')).toContain(`${ALERT_THRESHOLDS.staleIntervals} * max without (instance) (sstp_probe_interval_seconds)`);
      expect(rulesNamed('SSTPRedundancyLost').join('\n')).toMatch(new RegExp(`< ${ALERT_THRESHOLDS.redundancyServers}\\s`));
    });

    it('the panels that count or judge certificates read the per-target threshold series', () => {
      const fleet = dataPanels(loadDashboard('sstp-fleet.json'));
      for (const title of ['Certificates to renew', 'Certificates by their thresholds']) {
        const expr = fleet.find((p) => p.title === title)!.targets![0]!.expr!;
        expect(expr, title).toContain('sstp_cert_warning_threshold_seconds');
      }
    });

    it('every certificate-days panel turns orange under 21 days and red under 7', () => {
      const certPanels = DASHBOARD_FILES.map(loadDashboard)
        .flatMap((d) => [...panelsWith(d, 'sstp_cert_not_after'), ...panelsWith(d, 'sstp_cert_chain_earliest_expiry')])
        .filter((p) => p.title !== 'Certificates to renew' && p.title !== 'Certificates by their thresholds');
      expect(certPanels.map((p) => p.title).sort()).toEqual(['Certificate', 'Certificate days left', 'Chain expires first']);
      for (const panel of certPanels) {
        expect(thresholdValues(panel), panel.title).toEqual([null, ALERT_THRESHOLDS.certCriticalDays, ALERT_THRESHOLDS.certWarningDays]);
        expect(panel.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.color), panel.title).toEqual(['red', 'orange', 'green']);
      }
    });

    it('the chain panel colours an intermediate or root by SSTPChainCertificateExpiresSoon: orange within warn_days, red once expired', () => {
      const panel = dataPanels(loadDashboard('sstp-target.json')).find((p) => p.title === 'Chain expires first')!;
      const overrides = (panel.fieldConfig as { overrides: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: { steps: Array<{ value: number | null; color: string }> } }> }> }).overrides;
      expect(overrides.map((o) => o.matcher.options).sort()).toEqual(['intermediate', 'root']);
      for (const o of overrides) {
        expect(o.properties[0]!.id).toBe('thresholds');
        expect(o.properties[0]!.value.steps).toEqual([
          { value: null, color: 'red' },
          { value: 0, color: 'orange' },
          { value: ALERT_THRESHOLDS.chainWarningDays, color: 'green' },
        ]);
      }
    });

    it('every probe-time panel draws the SSTPProbeSlow line at 1 s', () => {
      const timePanels = DASHBOARD_FILES.map(loadDashboard).flatMap((d) => [
        ...panelsWith(d, 'sstp_probe_duration_seconds'),
        ...panelsWith(d, 'sstp_probe_phase_seconds'),
      ]);
      expect(timePanels.length).toBe(5);
      for (const panel of timePanels) expect(thresholdValues(panel), panel.title).toEqual([null, ALERT_THRESHOLDS.probeSlowSeconds]);
    });
  });
});

describe('grafana/provisioning and grafana/README.md', () => {
  const grafanaFile = (path: string): string => readFileSync(fileURLToPath(new URL(`../../grafana/${path}`, import.meta.url)), 'utf8');

  it('provisions a Prometheus datasource and a file provider for the mounted dashboards directory', () => {
    const datasources = parse(grafanaFile('provisioning/datasources/sstpwatch.yml')) as {
      apiVersion: number;
      datasources: Array<{ type: string; url: string; jsonData?: { timeInterval?: string } }>;
    };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: '${PROMETHEUS_URL}', jsonData: { timeInterval: '15s' } });

    const providers = parse(grafanaFile('provisioning/dashboards/sstpwatch.yml')) as {
      apiVersion: number;
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    expect(providers.providers[0]!.type).toBe('file');
    const path = providers.providers[0]!.options.path;
    expect(path).toBe('/etc/grafana/sstpwatch/dashboards');
    // The README's docker run mounts grafana/ where the provider looks, and points provisioning at it.
    const readme = grafanaFile('README.md');
    expect(readme).toContain('-v "$PWD/grafana:/etc/grafana/sstpwatch:ro"');
    expect(readme).toContain('GF_PATHS_PROVISIONING=/etc/grafana/sstpwatch/provisioning');
  });

  it('the dashboards directory holds exactly the generated dashboards', () => {
    const dir = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));
    expect(readdirSync(dir).sort()).toEqual([...DASHBOARD_FILES].sort());
  });

  it('the README describes every panel by its title', () => {
    const readme = grafanaFile('README.md');
    for (const file of DASHBOARD_FILES) {
      for (const panel of dataPanels(loadDashboard(file))) expect(readme, `${file}: "${panel.title}"`).toContain(`**${panel.title}**`);
    }
  });
});

describe('metricNames', () => {
  it.each([
    ['sstp_target_up', ['sstp_target_up']],
    ['sum by (group, target) (increase(sstp_probes_total{result="ok", group=~"a|b"}[5m]))', ['sstp_probes_total']],
    [
      'histogram_quantile(0.95, sum by (target, le) (rate(sstp_probe_duration_seconds_bucket{target="x"}[1m]))) > 1',
      ['sstp_probe_duration_seconds_bucket'],
    ],
    ['count(sstp_cert_not_after_timestamp_seconds - time() < 21 * 86400) or vector(0)', ['sstp_cert_not_after_timestamp_seconds']],
    [
      'sstp_target_state{state="up"} + ignoring (state) 2 * sstp_target_state{state="unknown"} and on (job) up',
      ['sstp_target_state', 'up'],
    ],
    ['ALERTS{alertname=~"SSTP.+", group=~"(a|b)|"}', ['ALERTS']],
    ['count_values("code", sstp_probe_http_status_code) offset 5m', ['sstp_probe_http_status_code']],
    ['1e3 * x:recorded_rule', ['x:recorded_rule']],
  ])('%s reads %j', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('interpolate', () => {
  const macros = { __rate_interval: '4s', __range: '60s', __interval: '1s' };
  it.each([
    ['rate(x{target="$target"}[$__rate_interval])', { target: 'rras-1' }, 'rate(x{target="rras-1"}[4s])'],
    ['x{group=~"$group"}[$__range]', { group: ['vpn-a', 'vpn-b'] }, 'x{group=~"(vpn-a|vpn-b)"}[60s]'],
    ['x{group=~"${group}"}', { group: ['vpn.a'] }, 'x{group=~"vpn\\\\.a"}'],
  ])('%s with %j is %s', (expr, variables, expected) => {
    expect(interpolate(expr, { variables, macros })).toBe(expected);
  });

  it('refuses a variable it was not given', () => {
    expect(() => interpolate('x{a="$nope"}', { variables: {}, macros })).toThrow(/unknown variable \$nope/);
  });
});

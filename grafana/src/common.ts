// Shared pieces of the sstpwatch dashboards: the datasource variable, queries, the thresholds the alert rules
// use (prometheus/alerts.yml), and the value mappings that turn state codes into words and colours.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DEFAULT_CERTIFICATE_THRESHOLDS, DEFAULT_SLOW_THRESHOLD_MS } from '../../src/config/policy.js';

/** Every panel and variable points at the dashboard's datasource variable, never at a datasource uid. */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/**
 * The numbers the panels are coloured by. The certificate and slow-probe colours are the built-in defaults of
 * config/policy.ts (`certificates: { warn_days: 21, critical_days: 7 }`, `slow_threshold: 1s`): a colour cannot
 * differ per series. The panels that count or judge targets read the thresholds sstpwatch exports per target
 * (sstp_cert_{warning,critical}_threshold_seconds, sstp_probe_slow_threshold_seconds), as the alert rules do,
 * so they follow the config. test/grafana/dashboards.test.ts checks both against prometheus/alerts.yml.
 */
export const ALERT_THRESHOLDS = {
  /** SSTPCertificateExpiresSoon, severity warning: less than warn_days left (default 21). */
  certWarningDays: DEFAULT_CERTIFICATE_THRESHOLDS.warnDays,
  /** SSTPCertificateExpiresSoon, severity critical: less than critical_days left (default 7). */
  certCriticalDays: DEFAULT_CERTIFICATE_THRESHOLDS.criticalDays,
  /** SSTPChainCertificateExpiresSoon (alerts-certificates.yml): an intermediate or root within warn_days; expired is critical. */
  chainWarningDays: DEFAULT_CERTIFICATE_THRESHOLDS.warnDays,
  /** SSTPProbeSlow: p95 of the probe duration over 5 minutes above slow_threshold (default 1 s). */
  probeSlowSeconds: DEFAULT_SLOW_THRESHOLD_MS / 1000,
  /** SSTPProbesStale: no finished probe for more than 3 probe intervals. */
  staleIntervals: 3,
  /** SSTPRedundancyLost: fewer than 2 servers up in a group. */
  redundancyServers: 2,
} as const;

/** Availability colours (no alert rule: an SLO-style reading of the probes). */
export const AVAILABILITY = { red: 0.99, green: 0.999 } as const;

export const COLORS = { ok: 'green', warning: 'orange', critical: 'red', neutral: 'text', maintenance: 'blue', unknown: 'purple' } as const;

/** Grafana unit ids used here. */
export const UNITS = {
  none: 'none',
  seconds: 's',
  days: 'd',
  ratio: 'percentunit',
  perMinute: 'opm',
  dateTime: 'dateTimeAsIso',
} as const;

/** The `datasource` template variable: any Prometheus datasource that scrapes sstpwatch. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

/**
 * The `job`, `site` and `instance` variables: which sstpwatch instances' series the panels read (All by default).
 * Several instances may report the same targets (an HA pair around a handoff, or sites probing from different
 * places); the panels count each target once across them. `site` is the label sstpwatch puts on its series from
 * `site:`; a series without it (an older sstpwatch) matches All.
 */
export function instanceVariables(): dashboard.QueryVariableBuilder[] {
  const all = (v: dashboard.QueryVariableBuilder): dashboard.QueryVariableBuilder =>
    v.multi(true).includeAll(true).allValue('.*').current({ text: 'All', value: '$__all' });
  return [
    all(labelVariable('job', 'Job', 'sstp_target_state')),
    all(labelVariable('site', 'Site', 'sstp_target_state{job=~"$job"}')),
    all(labelVariable('instance', 'sstpwatch instance', 'sstp_target_state{job=~"$job", site=~"$site"}')),
  ];
}

/** Matchers every query starts with: the sstpwatch instances picked in the `job`, `site` and `instance` variables. */
export const INSTANCES = 'job=~"$job", site=~"$site", instance=~"$instance"';

/** A query variable over one label of sstpwatch's series. */
export function labelVariable(name: string, label: string, selector: string): dashboard.QueryVariableBuilder {
  const query = `label_values(${selector}, ${name})`;
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** A range query (time series panels). */
export function rangeQuery(expr: string, legend: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).legendFormat(legend).range();
}

/** An instant query (stat, bar gauge, table: the value now). */
export function instantQuery(expr: string, legend: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).legendFormat(legend).instant();
}

/** An instant query whose labels become table columns. */
export function tableQuery(expr: string, refId: string): prometheus.DataqueryBuilder {
  return instantQuery(expr, '__auto', refId).format(prometheus.PromQueryFormat.Table);
}

export function thresholds(base: string, ...steps: Array<[number, string]>): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

export const certificateThresholds = (): dashboard.ThresholdsConfigBuilder =>
  thresholds(COLORS.critical, [ALERT_THRESHOLDS.certCriticalDays, COLORS.warning], [ALERT_THRESHOLDS.certWarningDays, COLORS.ok]);

/** For an intermediate or root CA certificate: orange within 30 days, red once expired. */
export const chainCaThresholds = (): dashboard.ThresholdsConfigBuilder =>
  thresholds(COLORS.critical, [0, COLORS.warning], [ALERT_THRESHOLDS.chainWarningDays, COLORS.ok]);

export const probeTimeThresholds = (): dashboard.ThresholdsConfigBuilder =>
  thresholds(COLORS.ok, [ALERT_THRESHOLDS.probeSlowSeconds, COLORS.critical]);

export const availabilityThresholds = (): dashboard.ThresholdsConfigBuilder =>
  thresholds(COLORS.critical, [AVAILABILITY.red, COLORS.warning], [AVAILABILITY.green, COLORS.ok]);

export const colorByThresholds = (): dashboard.FieldColorBuilder =>
  new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds);

export const palette = (): dashboard.FieldColorBuilder => new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.PaletteClassic);

function valueMap(entries: Record<string, { text: string; color: string }>): dashboard.ValueMap {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(entries).forEach(([value, result], index) => (options[value] = { ...result, index }));
  return { type: dashboard.MappingType.ValueToText, options };
}

// ------------------------------------------------------------------------------------------ state codes

/**
 * A target's debounced state as one number per target (sstp_target_state is one-hot):
 * down 0, up 1, unknown 2, maintenance 3. `selector` is the label matchers without braces.
 */
export function targetStateCode(selector: string): string {
  const s = (state: string): string => `sstp_target_state{${selector}, state="${state}"}`;
  return [
    `max by (group, target) (`,
    `  ${s('up')}`,
    `  + ignoring (state) 2 * ${s('unknown')}`,
    `  + ignoring (state) 3 * ${s('maintenance')}`,
    `)`,
  ].join('\n');
}

export const TARGET_STATE_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({
    '0': { text: 'DOWN', color: COLORS.critical },
    '1': { text: 'UP', color: COLORS.ok },
    '2': { text: 'UNKNOWN', color: COLORS.unknown },
    '3': { text: 'MAINTENANCE', color: COLORS.maintenance },
  }),
];

/**
 * A group's state as one number per group, as GET /api/v1/status computes it (src/health/group.ts):
 * down 0 (the VIP is down, or servers are down and none is up), degraded 1 (some servers down, some up),
 * ok 2 (no server down, nothing unknown, at least one server up), unknown 3. Servers in maintenance count
 * neither way.
 */
export function groupStateCode(selector: string): string {
  // Each target once, whatever the number of instances reporting it: max over instances, then the sum.
  const count = (match: string): string =>
    `sum by (group) (max by (group, target) (sstp_target_state{${selector}, ${match}}))`;
  return [
    `(`,
    `  ${count('role="vip", state="down"')} > 0`,
    `  or`,
    `  ${count('role="server", state="down"')} > 0`,
    `    and on (group) ${count('role="server", state="up"')} == 0`,
    `) * 0`,
    `or`,
    `(${count('role="server", state="down"')} > 0) * 0 + 1`,
    `or`,
    `(`,
    `  ${count('state="unknown"')} == 0`,
    `    and on (group) ${count('role="server", state="up"')} > 0`,
    `) * 0 + 2`,
    `or`,
    `max by (group) (sstp_target_state{${selector}}) * 0 + 3`,
  ].join('\n');
}

export const GROUP_STATE_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({
    '0': { text: 'DOWN', color: COLORS.critical },
    '1': { text: 'DEGRADED', color: COLORS.warning },
    '2': { text: 'OK', color: COLORS.ok },
    '3': { text: 'UNKNOWN', color: COLORS.unknown },
  }),
];

export const PROBE_RESULT_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({ '0': { text: 'FAILED', color: COLORS.critical }, '1': { text: 'OK', color: COLORS.ok } }),
];

export const CHECK_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({ '0': { text: 'FAIL', color: COLORS.critical }, '1': { text: 'PASS', color: COLORS.ok } }),
];

export const HANDSHAKE_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({ '0': { text: 'FAILED', color: COLORS.critical }, '1': { text: 'ACCEPTED', color: COLORS.ok } }),
];

/** HTTP status codes: 401 is the SSTP listener's healthy answer; 0 means no status line at all. */
export const STATUS_CODE_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({ '0': { text: 'no answer', color: COLORS.critical }, '401': { text: '401', color: COLORS.ok } }),
  { type: dashboard.MappingType.RangeToText, options: { from: 100, to: 599, result: { color: COLORS.warning, index: 2 } } },
];

// ------------------------------------------------------------------------------------------ expressions

/** Share of probes whose result was ok over the dashboard's time range, one series per target. */
export function availability(selector: string): string {
  const probes = (match: string): string => `sum by (group, target) (increase(sstp_probes_total{${match}}[$__range]))`;
  return [
    `(`,
    `  ${probes(`${selector}, result="ok"`)}`,
    `  or`,
    `  0 * ${probes(selector)}`,
    `)`,
    `/ ${probes(selector)}`,
  ].join('\n');
}

/** Probe duration quantile from the histogram, one series per target. */
export function probeQuantile(q: number, selector: string): string {
  return `histogram_quantile(${q}, sum by (group, target, le) (rate(sstp_probe_duration_seconds_bucket{${selector}}[$__rate_interval])))`;
}

/** Seconds left on each target's certificate compared with its own threshold series (sstpwatch exports them). */
function certUnder(selector: string, threshold: 'warning' | 'critical'): string {
  return (
    `sstp_cert_not_after_timestamp_seconds{${selector}} - time()\n` +
    `    < on (job, instance, target) group_left () sstp_cert_${threshold}_threshold_seconds{${selector}}`
  );
}

/**
 * Each target's certificate judged by its own `certificates` thresholds, as SSTPCertificateExpiresSoon judges
 * it: ok 0, warning 1, critical 2, expired 3. One number per target, whatever the number of sstpwatch
 * instances reporting it.
 */
export function certLevelCode(selector: string): string {
  const notAfter = `sstp_cert_not_after_timestamp_seconds{${selector}}`;
  return [
    `max by (group, target) (`,
    `  (${notAfter} - time() <= 0) * 0 + 3`,
    `  or (${certUnder(selector, 'critical')}) * 0 + 2`,
    `  or (${certUnder(selector, 'warning')}) * 0 + 1`,
    `  or ${notAfter} * 0`,
    `)`,
  ].join('\n');
}

/** How many targets' certificates are under their own warning threshold (each target once). */
export function certsToRenew(selector: string): string {
  return `count(max by (group, target) (\n  ${certUnder(selector, 'warning')}\n)) or vector(0)`;
}

export const CERT_LEVEL_MAPPINGS: dashboard.ValueMapping[] = [
  valueMap({
    '0': { text: 'OK', color: COLORS.ok },
    '1': { text: 'RENEW SOON', color: COLORS.warning },
    '2': { text: 'CRITICAL', color: COLORS.critical },
    '3': { text: 'EXPIRED', color: COLORS.critical },
  }),
];

export function certDaysLeft(selector: string): string {
  return `min by (group, target) (sstp_cert_not_after_timestamp_seconds{${selector}} - time()) / 86400`;
}

// ------------------------------------------------------------------------------------------ panel helpers

export const legend = (placement = common.LegendPlacement.Bottom): common.VizLegendOptionsBuilder =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(placement);

export const tableLegend = (calcs: string[]): common.VizLegendOptionsBuilder =>
  new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(common.LegendDisplayMode.Table)
    .placement(common.LegendPlacement.Bottom)
    .calcs(calcs);

export const multiTooltip = (): common.VizTooltipOptionsBuilder =>
  new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending);

export const lastValue = (): common.ReduceDataOptionsBuilder => new common.ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']);

export const thresholdLine = (): common.GraphThresholdsStyleConfigBuilder =>
  new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);

export const stacked = (): common.StackingConfigBuilder => new common.StackingConfigBuilder().mode(common.StackingMode.Normal);

/** A data link from a per-target series to the target dashboard, keeping the datasource and the time range. */
export function targetDashboardLink(): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder('Open ${__field.labels.target}')
    .url(
      '/d/sstp-target/sstp-target?var-datasource=${datasource}&var-group=${__field.labels.group}' +
        '&var-target=${__field.labels.target}&${__url_time_range}',
    )
    .targetBlank(false);
}

/**
 * Gives every panel (and row) a stable id in layout order: Grafana's "view panel" links and the
 * dashboards' JSON diffs depend on it, and the SDK leaves ids unset.
 */
export function numberPanels(built: dashboard.Dashboard): dashboard.Dashboard {
  let id = 1;
  for (const panel of built.panels ?? []) {
    panel.id = id++;
    if (panel.type === 'row') for (const inner of (panel as dashboard.RowPanel).panels) inner.id = id++;
  }
  return built;
}

/** Probe time per phase, stacked so the top is the whole probe, with SSTPProbeSlow's threshold as a line. */
export function phaseTimePanel(title: string, description: string, expr: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(expr, '{{phase}}'))
    .unit(UNITS.seconds)
    .min(0)
    .stacking(stacked())
    .fillOpacity(40)
    .thresholds(probeTimeThresholds())
    .thresholdsStyle(thresholdLine())
    .colorScheme(palette())
    .legend(legend())
    .tooltip(multiTooltip())
    .span(12)
    .height(8);
}

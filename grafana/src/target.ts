// "SSTP target": one target in depth, picked with the `group` and `target` variables (or a click on the fleet).
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  ALERT_THRESHOLDS,
  COLORS,
  CHECK_MAPPINGS,
  DATASOURCE,
  HANDSHAKE_MAPPINGS,
  PROBE_RESULT_MAPPINGS,
  STATUS_CODE_MAPPINGS,
  TARGET_STATE_MAPPINGS,
  UNITS,
  availability,
  availabilityThresholds,
  certDaysLeft,
  certificateThresholds,
  chainCaThresholds,
  colorByThresholds,
  datasourceVariable,
  instantQuery,
  INSTANCES,
  instanceVariables,
  labelVariable,
  lastValue,
  legend,
  multiTooltip,
  numberPanels,
  palette,
  phaseTimePanel,
  probeQuantile,
  probeTimeThresholds,
  rangeQuery,
  stacked,
  tableQuery,
  targetStateCode,
  thresholdLine,
  thresholds,
} from './common.js';
import { FLEET_UID } from './fleet.js';

export const TARGET_UID = 'sstp-target';

/** Matchers every query of this dashboard starts with. */
const TARGET = `${INSTANCES}, group="$group", target="$target"`;

interface StatOptions {
  title: string;
  description: string;
  expr: string;
  unit: string;
  steps: dashboard.ThresholdsConfigBuilder;
  mappings?: dashboard.ValueMapping[];
  decimals?: number;
  /** Series name shown with the value (default: the title). */
  legendFormat?: string;
}

function statPanel(o: StatOptions): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .withTarget(instantQuery(o.expr, o.legendFormat ?? o.title))
    .unit(o.unit)
    .thresholds(o.steps)
    .colorScheme(colorByThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(lastValue())
    .span(4)
    .height(4);
  if (o.mappings) panel.mappings(o.mappings);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  return panel;
}

function overview(): stat.PanelBuilder[] {
  return [
    statPanel({
      title: 'State',
      description: 'Debounced state (rise/fall applied): what the alert rules and GET /api/v1/status see.',
      expr: targetStateCode(TARGET),
      unit: UNITS.none,
      steps: thresholds(COLORS.neutral),
      mappings: TARGET_STATE_MAPPINGS,
    }),
    statPanel({
      title: 'Last probe',
      description: 'The last raw probe: OK (the expected status on an HTTP/1.1 status line, in time, certificate valid) or FAILED.',
      expr: `max by (group, target) (sstp_probe_success{${TARGET}})`,
      unit: UNITS.none,
      steps: thresholds(COLORS.neutral),
      mappings: PROBE_RESULT_MAPPINGS,
    }),
    statPanel({
      title: 'HTTP status',
      description: 'Status code of the last probe: 401 is a healthy SSTP listener, "no answer" means no status line.',
      expr: `max by (group, target) (sstp_probe_http_status_code{${TARGET}})`,
      unit: UNITS.none,
      steps: thresholds(COLORS.neutral),
      mappings: STATUS_CODE_MAPPINGS,
    }),
    statPanel({
      title: 'Failures in a row',
      description: 'Consecutive failed probes. The state turns DOWN when this reaches the target\'s `fall` setting.',
      expr: `max by (group, target) (sstp_target_consecutive_failures{${TARGET}})`,
      unit: UNITS.none,
      steps: thresholds(COLORS.ok, [1, COLORS.warning]),
      decimals: 0,
    }),
    statPanel({
      title: 'Availability',
      description: 'Share of probes that succeeded over the dashboard\'s time range. Red below 99 %, orange below 99.9 %.',
      expr: availability(TARGET),
      unit: UNITS.ratio,
      steps: availabilityThresholds(),
      decimals: 2,
    }),
    statPanel({
      title: 'Probe age (intervals)',
      description:
        `Time since the last finished probe, in probe intervals. SSTPProbesStale fires above ` +
        `${ALERT_THRESHOLDS.staleIntervals} (red). No value for targets on a cron schedule (no fixed interval).`,
      expr:
        `(time() - max by (group, target) (sstp_probe_last_timestamp_seconds{${TARGET}}))\n` +
        `/ max by (group, target) (sstp_probe_interval_seconds{${TARGET}})`,
      unit: UNITS.none,
      steps: thresholds(COLORS.ok, [ALERT_THRESHOLDS.staleIntervals, COLORS.critical]),
      decimals: 1,
    }),
  ];
}

function stateHistory(): statetimeline.PanelBuilder {
  const mappings = (values: dashboard.ValueMapping[]): dashboard.DynamicConfigValue[] => [{ id: 'mappings', value: values }];
  return new statetimeline.PanelBuilder()
    .title('State history')
    .description(
      'Three rows over the time range: the debounced state, each raw probe (OK/FAILED: flapping shows here before ' +
        'the state changes), and the HTTP status code the server answered.',
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(targetStateCode(TARGET), 'state', 'A'))
    .withTarget(rangeQuery(`max by (group, target) (sstp_probe_success{${TARGET}})`, 'probe', 'B'))
    .withTarget(rangeQuery(`max by (group, target) (sstp_probe_http_status_code{${TARGET}})`, 'HTTP status', 'C'))
    .unit(UNITS.none)
    .mappings(TARGET_STATE_MAPPINGS)
    .overrideByQuery('B', mappings(PROBE_RESULT_MAPPINGS))
    .overrideByQuery('C', mappings(STATUS_CODE_MAPPINGS))
    .thresholds(thresholds(COLORS.neutral))
    .colorScheme(colorByThresholds())
    .showValue(common.VisibilityMode.Auto)
    .mergeValues(true)
    .rowHeight(0.8)
    .fillOpacity(80)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false))
    .span(24)
    .height(7);
}

function errorKinds(): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title('Probes by result')
    .description(
      'Probes per minute by result: ok (green) and each error_kind (connect_refused, timeout, tls_handshake, ' +
        'unexpected_status, cert_*, ...). A change of kind tells what broke: the network, TLS or the SSTP listener.',
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`60 * sum by (result) (rate(sstp_probes_total{${TARGET}}[$__rate_interval]))`, '{{result}}'))
    .unit(UNITS.perMinute)
    .min(0)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(stacked())
    .colorScheme(palette())
    .overrideByName('ok', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLORS.ok } }])
    .legend(legend())
    .tooltip(multiTooltip())
    .span(12)
    .height(8);
}

function consecutiveFailures(): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title('Failures in a row over time')
    .description('Consecutive failed probes over time: a saw-tooth that never reaches `fall` is a flapping server.')
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`max by (group, target) (sstp_target_consecutive_failures{${TARGET}})`, 'failures in a row'))
    .unit(UNITS.none)
    .decimals(0)
    .min(0)
    .thresholds(thresholds(COLORS.ok, [1, COLORS.warning]))
    .colorScheme(palette())
    .legend(legend())
    .span(12)
    .height(8);
}

function phases(): timeseries.PanelBuilder {
  return phaseTimePanel(
    'Latency by phase',
    'The last probe\'s time per phase, stacked: dns, connect (network path), tls (handshake: server CPU, ' +
      'certificate chain), processing (HTTP.sys and RRAS answering the HEAD). The dashed line is SSTPProbeSlow\'s ' +
      `${ALERT_THRESHOLDS.probeSlowSeconds} s.`,
    `max by (phase) (sstp_probe_phase_seconds{${TARGET}})`,
  );
}

function probeTime(): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title('Probe time p50 / p95')
    .description(
      'Quantiles of the whole probe from the sstp_probe_duration_seconds histogram. SSTPProbeSlow fires when the ' +
        "p95 stays above the target's slow_threshold (the slow_threshold series; the dashed line is the default " +
        `${ALERT_THRESHOLDS.probeSlowSeconds} s) for 10 minutes while the target is up.`,
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(probeQuantile(0.5, TARGET), 'p50', 'A'))
    .withTarget(rangeQuery(probeQuantile(0.95, TARGET), 'p95', 'B'))
    .withTarget(rangeQuery(`max(sstp_probe_slow_threshold_seconds{${TARGET}})`, 'slow_threshold', 'C'))
    .unit(UNITS.seconds)
    .min(0)
    .thresholds(probeTimeThresholds())
    .thresholdsStyle(thresholdLine())
    .colorScheme(palette())
    .legend(legend())
    .tooltip(multiTooltip())
    .span(12)
    .height(8);
}

function certificateTable(): table.PanelBuilder {
  const cell = (displayName: string, unit: string, extra: dashboard.DynamicConfigValue[] = []): dashboard.DynamicConfigValue[] => [
    { id: 'displayName', value: displayName },
    { id: 'unit', value: unit },
    ...extra,
  ];
  return new table.PanelBuilder()
    .title('Certificate')
    .description(
      'The leaf certificate the target presents now: subject, issuer, SHA-256 fingerprint (what RRAS needs as ' +
        'SHA256CertificateHash behind TLS offload), expiry and days left (red under ' +
        `${ALERT_THRESHOLDS.certCriticalDays}, orange under ${ALERT_THRESHOLDS.certWarningDays} days). Empty for TLS-offload targets.`,
    )
    .datasource(DATASOURCE)
    .withTarget(tableQuery(`max by (group, target, role, subject, issuer, sha256) (sstp_cert_info{${TARGET}})`, 'A'))
    .withTarget(tableQuery(`max by (group, target, role) (sstp_cert_not_after_timestamp_seconds{${TARGET}}) * 1000`, 'B'))
    .withTarget(tableQuery(`max by (group, target, role) (${certDaysLeft(TARGET)})`, 'C'))
    .unit(UNITS.none)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, 'Value #A': true, group: true },
        indexByName: { target: 0, role: 1, subject: 2, issuer: 3, 'Value #B': 4, 'Value #C': 5, sha256: 6 },
        renameByName: {},
      },
    })
    .overrideByName('Value #B', cell('Not after', UNITS.dateTime))
    .overrideByName(
      'Value #C',
      cell('Days left', UNITS.days, [
        { id: 'decimals', value: 1 },
        { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
      ]),
    )
    .thresholds(certificateThresholds())
    .span(24)
    .height(5);
}

function certificateChecks(): stat.PanelBuilder {
  return statPanel({
    title: 'Certificate checks',
    description:
      'What an SSTP client checks on the leaf: eku (Server Authentication EKU), name (the public VPN name in ' +
      'subject/SAN), chain (leads to a trusted root), revoked (PASS = not listed in the CRL; absent without a CRL).',
    expr: `max by (check) (sstp_cert_valid{${TARGET}})`,
    unit: UNITS.none,
    steps: thresholds(COLORS.neutral),
    mappings: CHECK_MAPPINGS,
    legendFormat: '{{check}}',
  })
    .textMode(common.BigValueTextMode.ValueAndName)
    .span(12)
    .height(5);
}

function chainExpiry(): stat.PanelBuilder {
  return statPanel({
    title: 'Chain expires first',
    description:
      'Days until the certificate of the presented chain that expires first expires (leaf, intermediate or root): ' +
      'an intermediate expiring breaks every client as surely as the leaf. The leaf is red under ' +
      `${ALERT_THRESHOLDS.certCriticalDays} and orange under ${ALERT_THRESHOLDS.certWarningDays} days ` +
      `(SSTPCertificateExpiresSoon); an intermediate or root orange under ${ALERT_THRESHOLDS.chainWarningDays} days ` +
      'and red once expired (SSTPChainCertificateExpiresSoon/Expired). These colours are the built-in thresholds; ' +
      'the alerts use the target\'s own `certificates` setting.',
    expr: `min by (position) (sstp_cert_chain_earliest_expiry_timestamp_seconds{${TARGET}} - time()) / 86400`,
    unit: UNITS.days,
    steps: certificateThresholds(),
    decimals: 1,
    legendFormat: '{{position}}',
  })
    .overrideByName('intermediate', [{ id: 'thresholds', value: chainCaThresholds().build() }])
    .overrideByName('root', [{ id: 'thresholds', value: chainCaThresholds().build() }])
    .textMode(common.BigValueTextMode.ValueAndName)
    .span(12)
    .height(5);
}

function deepChecks(): Array<stat.PanelBuilder | timeseries.PanelBuilder> {
  const lastDeepCheck = statPanel({
    title: 'Last deep check',
    description:
      'Only for `check: sstp` targets: the last full SSTP call setup (POST, Call Connect Request, Ack with ' +
      'SHA-256, Call Disconnect). ACCEPTED means RRAS would take a real tunnel.',
    expr: `max by (group, target) (sstp_handshake_success{${TARGET}})`,
    unit: UNITS.none,
    steps: thresholds(COLORS.neutral),
    mappings: HANDSHAKE_MAPPINGS,
  })
    .span(6)
    .height(8);
  const stages = new timeseries.PanelBuilder()
    .title('Deep check time by stage')
    .description('The last deep check\'s time per stage, stacked: dns, connect, tls, http (POST -> 200), call (Call Connect Request -> reply), disconnect.')
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`max by (stage) (sstp_handshake_stage_seconds{${TARGET}})`, '{{stage}}'))
    .unit(UNITS.seconds)
    .min(0)
    .stacking(stacked())
    .fillOpacity(40)
    .colorScheme(palette())
    .legend(legend())
    .tooltip(multiTooltip())
    .span(9)
    .height(8);
  const results = new timeseries.PanelBuilder()
    .title('Deep checks by result')
    .description('Deep checks per minute by result: ok, or the error kind (sstp_nak, sstp_abort, http status, timeout, ...).')
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`60 * sum by (result) (rate(sstp_handshakes_total{${TARGET}}[$__rate_interval]))`, '{{result}}'))
    .unit(UNITS.perMinute)
    .min(0)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(stacked())
    .colorScheme(palette())
    .overrideByName('ok', [{ id: 'color', value: { mode: 'fixed', fixedColor: COLORS.ok } }])
    .legend(legend())
    .tooltip(multiTooltip())
    .span(9)
    .height(8);
  return [lastDeepCheck, stages, results];
}

export function targetDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('SSTP target')
    .uid(TARGET_UID)
    .description('sstpwatch: one SSTP target (RRAS server or VIP) in depth. Source: grafana/src/target.ts.')
    .tags(['sstpwatch', 'sstp', 'vpn'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .withVariable(datasourceVariable());
  for (const variable of instanceVariables()) builder.withVariable(variable);
  builder
    .withVariable(labelVariable('group', 'Group', `sstp_target_state{${INSTANCES}}`))
    .withVariable(labelVariable('target', 'Target', `sstp_target_state{${INSTANCES}, group="$group"}`))
    .link(
      new dashboard.DashboardLinkBuilder('SSTP fleet')
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${FLEET_UID}/sstp-fleet`)
        .icon('dashboard')
        .includeVars(false)
        .keepTime(true),
    )
    .withRow(new dashboard.RowBuilder('Now'));
  for (const panel of overview()) builder.withPanel(panel);
  builder
    .withRow(new dashboard.RowBuilder('History'))
    .withPanel(stateHistory())
    .withPanel(errorKinds())
    .withPanel(consecutiveFailures())
    .withRow(new dashboard.RowBuilder('Latency'))
    .withPanel(phases())
    .withPanel(probeTime())
    .withRow(new dashboard.RowBuilder('Certificate'))
    .withPanel(certificateTable())
    .withPanel(certificateChecks())
    .withPanel(chainExpiry())
    .withRow(new dashboard.RowBuilder('Deep SSTP check'));
  for (const panel of deepChecks()) builder.withPanel(panel);
  return numberPanels(builder.build());
}

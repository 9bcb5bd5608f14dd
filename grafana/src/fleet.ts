// "SSTP fleet": every group and target at a glance, the dashboard a VPN admin opens in the morning.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  ALERT_THRESHOLDS,
  CERT_LEVEL_MAPPINGS,
  COLORS,
  DATASOURCE,
  GROUP_STATE_MAPPINGS,
  HANDSHAKE_MAPPINGS,
  INSTANCES,
  STATUS_CODE_MAPPINGS,
  TARGET_STATE_MAPPINGS,
  UNITS,
  availability,
  availabilityThresholds,
  certDaysLeft,
  certLevelCode,
  certificateThresholds,
  certsToRenew,
  colorByThresholds,
  datasourceVariable,
  groupStateCode,
  instanceVariables,
  instantQuery,
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
  tableLegend,
  tableQuery,
  targetDashboardLink,
  targetStateCode,
  thresholdLine,
  thresholds,
} from './common.js';

export const FLEET_UID = 'sstp-fleet';

/** Matchers every fleet query starts with: the instances and groups picked in the variables (All by default). */
const GROUPS = `${INSTANCES}, group=~"$group"`;

/** How many targets match, each counted once across the sstpwatch instances reporting it. */
function targetCount(match: string): string {
  return `count(max by (group, target, role) (sstp_target_state{${GROUPS}, ${match}}) == 1) or vector(0)`;
}

function countStat(title: string, description: string, expr: string, steps: dashboard.ThresholdsConfigBuilder): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .withTarget(instantQuery(expr, title))
    .unit(UNITS.none)
    .decimals(0)
    .thresholds(steps)
    .colorScheme(colorByThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Value)
    .reduceOptions(lastValue())
    .span(4)
    .height(4);
}

function overview(): Array<dashboard.PanelBuilder | stat.PanelBuilder> {
  const groupState = new stat.PanelBuilder()
    .title('Groups')
    .description(
      'Each VPN name (group) as GET /api/v1/status judges it: OK (no server down, all known), DEGRADED (some RRAS ' +
        'servers down, some up), DOWN (the VIP fails, or no server is up), UNKNOWN (no verdict yet). Servers in ' +
        'maintenance count neither way.',
    )
    .datasource(DATASOURCE)
    .withTarget(instantQuery(groupStateCode(GROUPS), '{{group}}'))
    .unit(UNITS.none)
    .mappings(GROUP_STATE_MAPPINGS)
    .thresholds(thresholds(COLORS.neutral))
    .colorScheme(colorByThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .reduceOptions(lastValue())
    .span(12)
    .height(6);

  const serversUp = new stat.PanelBuilder()
    .title('Servers up per group')
    .description(
      `RRAS servers up in each group. Orange below ${ALERT_THRESHOLDS.redundancyServers}: SSTPRedundancyLost fires ` +
        `when a group with ${ALERT_THRESHOLDS.redundancyServers} or more servers outside maintenance has fewer up; red at 0.`,
    )
    .datasource(DATASOURCE)
    // Counted from the targets, not sstp_group_servers_up: static shards and an HA pair each export only the
    // servers they probe, so no one instance's group count is the group's.
    .withTarget(
      instantQuery(
        `count by (group) (max by (group, target) (sstp_target_state{${GROUPS}, role="server", state="up"}) == 1)\n` +
          `or max by (group) (sstp_target_state{${GROUPS}, role="server"}) * 0`,
        '{{group}}',
      ),
    )
    .unit(UNITS.none)
    .decimals(0)
    .thresholds(thresholds(COLORS.critical, [1, COLORS.warning], [ALERT_THRESHOLDS.redundancyServers, COLORS.ok]))
    .colorScheme(colorByThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .reduceOptions(lastValue())
    .span(12)
    .height(6);

  return [
    groupState,
    serversUp,
    countStat(
      'Servers down',
      'RRAS servers whose debounced state is down (failed `fall` probes in a row): SSTPServerDown fires for each after 2 minutes.',
      targetCount('role="server", state="down"'),
      thresholds(COLORS.ok, [1, COLORS.critical]),
    ),
    countStat(
      'VIPs down',
      'Load-balancer virtual services (VIP targets) whose state is down: SSTPServiceDown (critical) fires after 1 minute.',
      targetCount('role="vip", state="down"'),
      thresholds(COLORS.ok, [1, COLORS.critical]),
    ),
    countStat(
      'In maintenance',
      'Targets in a maintenance window (PUT /api/v1/targets/:name/maintenance): no alert fires for them.',
      targetCount('state="maintenance"'),
      thresholds(COLORS.ok, [1, COLORS.maintenance]),
    ),
    countStat(
      'Unknown',
      'Targets without a verdict yet (fewer than `rise` or `fall` probes since sstpwatch started or the target was added).',
      targetCount('state="unknown"'),
      thresholds(COLORS.ok, [1, COLORS.unknown]),
    ),
    countStat(
      'Certificates to renew',
      'Targets whose TLS certificate expires within their `certificates.warn_days` (default ' +
        `${ALERT_THRESHOLDS.certWarningDays} days; sstpwatch exports each target's as sstp_cert_warning_threshold_seconds): ` +
        'SSTPCertificateExpiresSoon fires for each of them.',
      certsToRenew(GROUPS),
      thresholds(COLORS.ok, [1, COLORS.warning]),
    ),
    countStat(
      'Failing probes now',
      'Targets whose last raw probe failed (before rise/fall debouncing): a server that flaps shows here first.',
      `count(min by (group, target) (sstp_probe_success{${GROUPS}}) == 0) or vector(0)`,
      thresholds(COLORS.ok, [1, COLORS.warning]),
    ),
  ];
}

function stateTimeline(): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title('State per target')
    .description('Debounced state of every target over the time range: UP, DOWN, UNKNOWN, MAINTENANCE. Click a row to open the target dashboard.')
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(targetStateCode(GROUPS), '{{target}}'))
    .unit(UNITS.none)
    .mappings(TARGET_STATE_MAPPINGS)
    .thresholds(thresholds(COLORS.neutral))
    .colorScheme(colorByThresholds())
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8)
    .fillOpacity(80)
    .legend(legend())
    .dataLinks([targetDashboardLink()])
    .span(24)
    .height(8);
}

function availabilityPanel(): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .title('Availability over the time range')
    .description(
      `Share of probes that succeeded (result ok) per target over the dashboard's time range, worst first. ` +
        `Red below 99 %, orange below 99.9 %. Same ratio as GET /api/v1/targets/:name/uptime.`,
    )
    .datasource(DATASOURCE)
    .withTarget(instantQuery(`sort(\n${availability(GROUPS)}\n)`, '{{target}}'))
    .unit(UNITS.ratio)
    .decimals(2)
    .min(0)
    .max(1)
    .thresholds(availabilityThresholds())
    .colorScheme(colorByThresholds())
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(lastValue())
    .dataLinks([targetDashboardLink()])
    .span(8)
    .height(9);
}

function certificatePanel(): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .title('Certificate days left')
    .description(
      `Days until the leaf certificate each target presents expires, soonest first. Red under ` +
        `${ALERT_THRESHOLDS.certCriticalDays} days, orange under ${ALERT_THRESHOLDS.certWarningDays}: the built-in ` +
        'thresholds; "Certificates by their thresholds" judges each target by its own `certificates` setting. ' +
        'Targets behind TLS offload present none.',
    )
    .datasource(DATASOURCE)
    .withTarget(instantQuery(`sort(${certDaysLeft(GROUPS)})`, '{{target}}'))
    .unit(UNITS.days)
    .decimals(1)
    .min(0)
    .max(90)
    .thresholds(certificateThresholds())
    .colorScheme(colorByThresholds())
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(lastValue())
    .dataLinks([targetDashboardLink()])
    .span(8)
    .height(9);
}

function alertsPanel(): table.PanelBuilder {
  return new table.PanelBuilder()
    .title('Firing SSTP alerts')
    .description(
      "Alerts of prometheus/alerts.yml firing now, from Prometheus' own ALERTS series (no Alertmanager datasource " +
        'needed). Empty when the rules are not loaded in this Prometheus or nothing fires.',
    )
    .datasource(DATASOURCE)
    .withTarget(tableQuery(`ALERTS{alertstate="firing", alertname=~"SSTP.+", job=~"$job|", instance=~"$instance|", group=~"$group|"}`, 'A'))
    .unit(UNITS.none)
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, Value: true, __name__: true, alertstate: true, job: true, instance: true },
        indexByName: { alertname: 0, severity: 1, group: 2, target: 3, role: 4 },
        renameByName: {},
      },
    })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('severity').desc(false)])
    .noValue('No SSTP alert firing')
    .span(8)
    .height(9);
}

/** Targets that some sstpwatch instances see up and others down: each instance's view, one row per instance. */
export function disagreementQuery(selector: string): string {
  const up = `sstp_target_up{${selector}}`;
  return [
    up,
    `  and on (group, target)`,
    `  (max by (group, target) (${up}) != on (group, target) min by (group, target) (${up}))`,
  ].join('\n');
}

function disagreementPanel(): table.PanelBuilder {
  return new table.PanelBuilder()
    .title('Instances that disagree')
    .description(
      'Targets that one sstpwatch instance sees UP and another DOWN, with each instance\'s view: a network path ' +
        'or firewall problem between one site and the server rather than a server fault. Empty when every ' +
        'instance agrees, or when one instance scrapes the fleet. The counts above take each target once: ' +
        'DOWN when any instance sees it down.',
    )
    .datasource(DATASOURCE)
    .withTarget(tableQuery(disagreementQuery(GROUPS), 'A'))
    .unit(UNITS.none)
    .mappings(TARGET_STATE_MAPPINGS)
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, __name__: true, job: true },
        indexByName: { group: 0, target: 1, role: 2, instance: 3, Value: 4 },
        renameByName: { Value: 'state' },
      },
    })
    .noValue('Every instance agrees')
    .span(24)
    .height(6);
}

function probeTimePanel(q: number, label: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(`Probe time ${label} per target`)
    .description(
      `${label} of the whole health check (resolve, connect, TLS, HEAD -> 401) per target, from the ` +
        `sstp_probe_duration_seconds histogram. SSTPProbeSlow fires when the p95 stays above ` +
        `${ALERT_THRESHOLDS.probeSlowSeconds} s for 10 minutes (dashed line).`,
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(probeQuantile(q, GROUPS), '{{target}}'))
    .unit(UNITS.seconds)
    .min(0)
    .thresholds(probeTimeThresholds())
    .thresholdsStyle(thresholdLine())
    .colorScheme(palette())
    .legend(tableLegend(['mean', 'max', 'lastNotNull']))
    .tooltip(multiTooltip())
    .dataLinks([targetDashboardLink()])
    .span(12)
    .height(9);
}

function phasePanel(): timeseries.PanelBuilder {
  return phaseTimePanel(
    'Time per phase (fleet average)',
    'Where a probe spends its time, averaged over the targets: dns, connect (network), tls (handshake, server ' +
      'CPU), processing (HTTP.sys and RRAS answering the HEAD). Stacked: the top is the whole probe.',
    `avg by (phase) (sstp_probe_phase_seconds{${GROUPS}})`,
  );
}

function errorKindsPanel(): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title('Failed probes by error kind')
    .description(
      'Failed probes per minute across the selected groups, by error_kind (connect_refused, timeout, ' +
        'unexpected_status, cert_expired, ...). README "What it checks" explains each kind.',
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`60 * sum by (result) (rate(sstp_probes_total{${GROUPS}, result!="ok"}[$__rate_interval]))`, '{{result}}'))
    .unit(UNITS.perMinute)
    .min(0)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(stacked())
    .colorScheme(palette())
    .legend(legend())
    .tooltip(multiTooltip())
    .span(12)
    .height(8);
}

function statusCodePanel(): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title('HTTP status codes seen')
    .description(
      'Status code of each probe per target over time. 401 (green) is a healthy SSTP listener; 404/503 (orange) ' +
        'mean HTTP.sys answers but SSTP is not bound; "no answer" (red) is no status line at all (refused, reset, ' +
        'timeout, TLS failure). If you configured another expect_status, read it instead of 401.',
    )
    .datasource(DATASOURCE)
    .withTarget(rangeQuery(`max by (group, target) (sstp_probe_http_status_code{${GROUPS}})`, '{{target}}'))
    .unit(UNITS.none)
    .mappings(STATUS_CODE_MAPPINGS)
    .thresholds(thresholds(COLORS.neutral))
    .colorScheme(colorByThresholds())
    .showValue(common.VisibilityMode.Auto)
    .mergeValues(true)
    .rowHeight(0.8)
    .fillOpacity(80)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false))
    .dataLinks([targetDashboardLink()])
    .span(24)
    .height(8);
}

function mappedStat(title: string, description: string, expr: string, legendFormat: string, mappings: dashboard.ValueMapping[]): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .withTarget(instantQuery(expr, legendFormat))
    .unit(UNITS.none)
    .mappings(mappings)
    .thresholds(thresholds(COLORS.neutral))
    .colorScheme(colorByThresholds())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .reduceOptions(lastValue())
    .height(6);
}

function certificateAndDeepChecks(): stat.PanelBuilder[] {
  return [
    countStat(
      'Failed certificate checks',
      'Leaf certificate checks failing across the targets (sstp_cert_valid == 0): eku (Server Authentication), name ' +
        '(matches the public VPN name), chain (leads to a trusted root), revoked (listed in its CRL). Any of them ' +
        'makes Windows refuse the SSTP tunnel; the target dashboard names the check.',
      `count(min by (group, target, check) (sstp_cert_valid{${GROUPS}}) == 0) or vector(0)`,
      thresholds(COLORS.ok, [1, COLORS.critical]),
    )
      .span(4)
      .height(6),
    mappedStat(
      'Group certificate consistency',
      'Per group: servers (every RRAS server presents the same leaf), vip (the VIP presents the servers\' leaf), ' +
        'offload_hash (the VIP leaf is the configured offload_cert_sha256). DIFFERENT on a group behind a load ' +
        'balancer means clients fail on some servers only. Absent where there is nothing to compare.',
      `min by (group, check) (sstp_group_cert_consistent{${GROUPS}})`,
      '{{group}} {{check}}',
      [
        {
          type: dashboard.MappingType.ValueToText,
          options: { '0': { text: 'DIFFERENT', color: COLORS.critical, index: 0 }, '1': { text: 'SAME', color: COLORS.ok, index: 1 } },
        },
      ],
    ).span(8),
    mappedStat(
      'Certificates by their thresholds',
      "Each target's certificate judged by its own `certificates: { warn_days, critical_days }` from sstpwatch.yml, " +
        'as SSTPCertificateExpiresSoon judges it: RENEW SOON (under warn_days), CRITICAL (under critical_days), ' +
        'EXPIRED. Change the thresholds in the config, not here. Targets behind TLS offload present none.',
      certLevelCode(GROUPS),
      '{{target}}',
      CERT_LEVEL_MAPPINGS,
    ).span(24),
    mappedStat(
      'Deep SSTP check',
      'Targets with `check: sstp`: the last full SSTP call setup (SSTP_DUPLEX_POST, Call Connect Request, Ack, ' +
        'Disconnect) every sstp_interval. ACCEPTED means RRAS would take a real tunnel, not only answer the health ' +
        'check. Empty when no target uses check: sstp.',
      `min by (group, target) (sstp_handshake_success{${GROUPS}})`,
      '{{target}}',
      HANDSHAKE_MAPPINGS,
    ).span(12),
  ];
}

export function fleetDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('SSTP fleet')
    .uid(FLEET_UID)
    .description('sstpwatch: health of every Always On VPN SSTP group and RRAS server. Source: grafana/src/fleet.ts.')
    .tags(['sstpwatch', 'sstp', 'vpn'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .withVariable(datasourceVariable());
  for (const variable of instanceVariables()) builder.withVariable(variable);
  builder
    .withVariable(
      labelVariable('group', 'Group', `sstp_target_state{${INSTANCES}}`)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' }),
    )
    .link(
      new dashboard.DashboardLinkBuilder('SSTP target')
        .type(dashboard.DashboardLinkType.Link)
        .url('/d/sstp-target/sstp-target')
        .icon('dashboard')
        .includeVars(false)
        .keepTime(true),
    )
    .withRow(new dashboard.RowBuilder('Now'));
  for (const panel of overview()) builder.withPanel(panel);
  builder
    .withRow(new dashboard.RowBuilder('State'))
    .withPanel(stateTimeline())
    .withPanel(availabilityPanel())
    .withPanel(certificatePanel())
    .withPanel(alertsPanel())
    .withPanel(disagreementPanel())
    .withRow(new dashboard.RowBuilder('Probe time'))
    .withPanel(probeTimePanel(0.5, 'p50'))
    .withPanel(probeTimePanel(0.95, 'p95'))
    .withPanel(phasePanel())
    .withPanel(errorKindsPanel())
    .withRow(new dashboard.RowBuilder('HTTP'))
    .withPanel(statusCodePanel())
    .withRow(new dashboard.RowBuilder('Certificates and deep checks'));
  for (const panel of certificateAndDeepChecks()) builder.withPanel(panel);
  return numberPanels(builder.build());
}

// The per-target and per-group families of metrics.ts, kept as facts per target and rendered per target
// at each scrape (series-table.ts). The families, their names, labels, HELP and TYPE are the contract's (docs/metrics.md); their
// order is the order they are created in here.
// Each family makes the constant parts of its lines once (`\nname{`, `,state="up"} 1`), as flat strings
// (text-format.ts flat()), and renders a row in a plain loop: a template that rebuilt them made more strings per
// line, each a node of the piece's tree that the copy into the chunk walks again (~0.9x a scrape's CPU).
import type { Registry } from 'prom-client';
import { METRIC_FAMILIES, type MetricFamily } from '../config/metrics-config.js';
import type { Thresholds } from '../config/policy.js';
import type { TargetRole } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import { TARGET_STATES, type TargetHealth, type TargetState } from '../health/types.js';
import { CHECK_KINDS, CHECKS, type CheckSeries } from '../probe/checks.js';
import { ERROR_KINDS, type CheckKind, type ProbeResult } from '../probe/types.js';
import { RenderedFamily, SeriesTable, type SeriesRow } from './series-table.js';
import { escapeLabelValue, flat, labelText, valueText } from './text-format.js';

/** What identifies a target's series (metrics.ts TargetLabels). */
interface TargetIdentity {
  target: string;
  group: string;
  role: TargetRole;
}

/** The last result of one kind of check, as its families publish it. */
interface CheckFacts {
  success: number;
  lastTimestamp: number;
  statusCode: number;
  /** Seconds per step of the kind (NaN: the last result had no such step); null when the family is excluded. */
  steps: number[] | null;
  /** Crypto Binding hash offer of the last accepted call; -1 before any. */
  hashBitmask: number;
  /** Results per ERROR_KINDS index (0: never seen, no series); null when excluded. */
  results: number[] | null;
  /** Per bucket (not cumulative), then sum, then count; null when excluded or the kind has no histogram. */
  duration: number[] | null;
}

interface TargetRow extends SeriesRow {
  group: string;
  role: TargetRole;
  state: TargetState | null;
  consecutiveFailures: number;
  /** Probe interval in seconds; NaN: none (cron schedule, or not yet set). */
  interval: number;
  /** [warn, critical, slow] in seconds; null until set or when excluded. */
  thresholds: number[] | null;
  certNotAfter: number;
  /** The cert_info label text of the leaf now presented; null: none (or excluded). */
  certInfo: string | null;
  checks: (CheckFacts | null)[];
}

interface GroupRow extends SeriesRow {
  serversUp: number;
  serversTotal: number;
}

const ERROR_INDEX = new Map<string, number>(ERROR_KINDS.map((kind, i) => [kind, i]));
const HASH_PROTOCOLS = [['sha1', 0x01], ['sha256', 0x02]] as const;

export interface TargetFamilies {
  observe(check: CheckKind, labels: TargetIdentity, result: ProbeResult): void;
  setHealth(labels: TargetIdentity, health: TargetHealth): void;
  setGroup(group: string, health: GroupHealth): void;
  setProbeInterval(labels: TargetIdentity, seconds: number | null): void;
  setThresholds(labels: TargetIdentity, thresholds: Thresholds): void;
  forgetTarget(labels: TargetIdentity): void;
  forgetGroup(group: string): void;
}

/** The families of one kind of check (null: excluded, or not one of the kind's). */
interface KindFamilies {
  spec: CheckSeries;
  index: number;
  success: RenderedFamily<TargetRow>;
  lastTimestamp: RenderedFamily<TargetRow>;
  results: RenderedFamily<TargetRow> | null;
  steps: RenderedFamily<TargetRow> | null;
  duration: RenderedFamily<TargetRow> | null;
  statusCode: RenderedFamily<TargetRow> | null;
  hashProtocol: RenderedFamily<TargetRow> | null;
}

export function createTargetFamilies(registry: Registry, exclude: readonly MetricFamily[], constant: Readonly<Record<string, string>>): TargetFamilies {
  const excluded = new Set<string>(exclude.flatMap((family) => METRIC_FAMILIES[family]));
  const targets = new SeriesTable<TargetRow>();
  const groups = new SeriesTable<GroupRow>();
  type Render<R> = (row: R) => string;
  const family = <R extends SeriesRow>(table: SeriesTable<R>, name: string, help: string, type: 'gauge' | 'counter' | 'histogram', render: Render<R>) =>
    excluded.has(name) ? null : new RenderedFamily(name, help, type, table, render, registry);
  /** A gauge of one value per target, absent while the value is NaN. */
  const gauge = (name: string, help: string, value: (row: TargetRow) => number) => {
    const open = flat(`\n${name}{`);
    return family(targets, name, help, 'gauge', (row) => {
      const v = value(row);
      return Number.isNaN(v) ? '' : `${open}${row.labels}} ${valueText(v)}`;
    });
  };
  const stateOpen = flat('\nsstp_target_state{');
  /** Per state of the row, the end of each of its four lines. */
  const stateEnds = new Map(TARGET_STATES.map((state) => [state, TARGET_STATES.map((s) => flat(`,state="${s}"} ${s === state ? 1 : 0}`))]));

  gauge('sstp_target_up', 'Debounced state: 1 up, 0 down (absent while unknown or in maintenance).', (row) =>
    row.state === 'up' ? 1 : row.state === 'down' ? 0 : Number.NaN);
  family(targets, 'sstp_target_state', 'Debounced state, one-hot over up/down/unknown/maintenance.', 'gauge', (row) => {
    const ends = row.state === null ? undefined : stateEnds.get(row.state);
    if (!ends) return '';
    let text = '';
    for (const end of ends) text += `${stateOpen}${row.labels}${end}`;
    return text;
  });
  const kinds = CHECK_KINDS.map((check, index) => kindFamilies(CHECKS[check].series, index));
  gauge('sstp_target_consecutive_failures', 'Failed probes in a row.', (row) => row.consecutiveFailures);
  gauge('sstp_cert_not_after_timestamp_seconds', 'Expiry of the leaf certificate presented (Unix seconds).', (row) => row.certNotAfter);
  const certInfoOpen = flat('\nsstp_cert_info{');
  const certInfo = family(targets, 'sstp_cert_info', 'The leaf certificate now presented.', 'gauge', (row) =>
    row.certInfo === null ? '' : `${certInfoOpen}${row.labels},${row.certInfo}} 1`);
  const groupGauge = (name: string, help: string, value: (row: GroupRow) => number) => {
    const open = flat(`\n${name}{`);
    return family(groups, name, help, 'gauge', (row) => `${open}${row.labels}} ${valueText(value(row))}`);
  };
  groupGauge('sstp_group_servers_up', 'Servers of the group whose state is up.', (row) => row.serversUp);
  groupGauge('sstp_group_servers', 'Servers configured in the group.', (row) => row.serversTotal);
  gauge('sstp_probe_interval_seconds', 'Configured probe interval (absent for cron schedules).', (row) => row.interval);
  const threshold = (name: string, help: string, index: number) => gauge(name, help, (row) => row.thresholds?.[index] ?? Number.NaN);
  const thresholdFamilies = [
    threshold('sstp_cert_warning_threshold_seconds', 'certificates.warn_days in seconds: a certificate expiring sooner is a warning.', 0),
    threshold('sstp_cert_critical_threshold_seconds', 'certificates.critical_days in seconds: a certificate expiring sooner is critical.', 1),
    threshold('sstp_probe_slow_threshold_seconds', 'slow_threshold: probes taking longer are slow.', 2),
  ];

  function kindFamilies(spec: CheckSeries, index: number): KindFamilies {
    const facts = (row: TargetRow) => row.checks[index];
    const perTarget = (series: { name: string; help: string }, value: (f: CheckFacts) => number) =>
      gauge(series.name, series.help, (row) => { const f = facts(row); return f ? value(f) : Number.NaN; })!;
    const success = perTarget(spec.success, (f) => f.success);
    const lastTimestamp = perTarget(spec.lastTimestamp, (f) => f.lastTimestamp);
    const resultsName = spec.results.name;
    const resultsOpen = flat(`\n${resultsName}{`);
    const resultLabels = ERROR_KINDS.map((kind) => flat(`,result="${kind}"} `));
    const results = family(targets, resultsName, spec.results.help, 'counter', (row) => {
      const counts = facts(row)?.results;
      if (!counts) return '';
      let text = '';
      for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) text += `${resultsOpen}${row.labels}${resultLabels[i]}${counts[i]}`;
      return text;
    });
    const stepsName = spec.steps.name;
    const stepsOpen = flat(`\n${stepsName}{`);
    const stepNames = spec.steps.steps.map((step) => flat(`,${spec.steps.label}="${step}"} `));
    const steps = family(targets, stepsName, spec.steps.help, 'gauge', (row) => {
      const seconds = facts(row)?.steps;
      if (!seconds) return '';
      let text = '';
      for (let i = 0; i < seconds.length; i++) if (!Number.isNaN(seconds[i])) text += `${stepsOpen}${row.labels}${stepNames[i]}${valueText(seconds[i]!)}`;
      return text;
    });
    let duration: RenderedFamily<TargetRow> | null = null;
    if (spec.duration) {
      const { name, buckets } = spec.duration;
      const bucketPrefixes = [...buckets.map((bound) => `\n${name}_bucket{le="${bound}",`), `\n${name}_bucket{le="+Inf",`].map(flat);
      const sumOpen = flat(`\n${name}_sum{`);
      const countOpen = flat(`\n${name}_count{`);
      duration = family(targets, name, spec.duration.help, 'histogram', (row) => {
        const counts = facts(row)?.duration;
        if (!counts) return '';
        let text = '';
        let acc = 0;
        for (let i = 0; i < buckets.length; i++) text += `${bucketPrefixes[i]}${row.labels}} ${(acc += counts[i]!)}`;
        const count = counts[buckets.length + 1]!;
        return `${text}${bucketPrefixes[buckets.length]}${row.labels}} ${count}${sumOpen}${row.labels}} ${valueText(counts[buckets.length]!)}${countOpen}${row.labels}} ${count}`;
      });
    }
    const statusCode = spec.statusCode ? perTarget(spec.statusCode, (f) => f.statusCode) : null;
    let hashProtocol: RenderedFamily<TargetRow> | null = null;
    if (spec.hashProtocol) {
      const name = spec.hashProtocol.name;
      const open = flat(`\n${name}{`);
      const protocols = HASH_PROTOCOLS.map(([protocol, bit]) => [flat(`,protocol="${protocol}"} `), bit] as const);
      hashProtocol = family(targets, name, spec.hashProtocol.help, 'gauge', (row) => {
        const bitmask = facts(row)?.hashBitmask ?? -1;
        if (bitmask < 0) return '';
        let text = '';
        for (const [labels, bit] of protocols) text += `${open}${row.labels}${labels}${bitmask & bit ? 1 : 0}`;
        return text;
      });
    }
    return { spec, index, success, lastTimestamp, results, steps, duration, statusCode, hashProtocol };
  }

  const constantText = (first: Record<string, string>) => labelText({ ...first, ...constant });

  function rowOf(labels: TargetIdentity): TargetRow {
    let row = targets.rows.get(labels.target);
    if (!row) {
      row = {
        labels: constantText({ target: labels.target, group: labels.group, role: labels.role }),
        group: labels.group, role: labels.role, state: null, consecutiveFailures: Number.NaN, interval: Number.NaN,
        thresholds: null, certNotAfter: Number.NaN, certInfo: null, checks: kinds.map(() => null),
      };
      targets.rows.set(labels.target, row);
    } else if (row.group !== labels.group || row.role !== labels.role) {
      row.group = labels.group;
      row.role = labels.role;
      row.labels = constantText({ target: labels.target, group: labels.group, role: labels.role });
    }
    return row;
  }

  function factsOf(row: TargetRow, kind: KindFamilies): CheckFacts {
    let facts = row.checks[kind.index];
    if (!facts) {
      const buckets = kind.spec.duration?.buckets.length;
      facts = row.checks[kind.index] = {
        success: 0, lastTimestamp: 0, statusCode: 0, hashBitmask: -1,
        steps: kind.steps ? kind.spec.steps.steps.map(() => Number.NaN) : null,
        results: kind.results ? ERROR_KINDS.map(() => 0) : null,
        duration: kind.duration && buckets !== undefined ? new Array<number>(buckets + 2).fill(0) : null,
      };
    }
    return facts;
  }

  function observeDuration(counts: number[], buckets: readonly number[], seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const bucket = buckets.findIndex((bound) => seconds <= bound);
    if (bucket >= 0) counts[bucket]! += 1;
    counts[buckets.length]! += seconds;
    counts[buckets.length + 1]! += 1;
  }

  return {
    observe(check, labels, result) {
      const row = rowOf(labels);
      const kind = kinds[CHECK_KINDS.indexOf(check)]!;
      const facts = factsOf(row, kind);
      facts.success = result.ok ? 1 : 0;
      facts.lastTimestamp = result.at / 1000;
      facts.statusCode = result.statusCode ?? 0;
      if (facts.duration) observeDuration(facts.duration, kind.spec.duration!.buckets, result.durationMs / 1000);
      if (facts.steps) {
        const times = kind.spec.steps.of(result);
        kind.spec.steps.steps.forEach((step, i) => { const ms = times[step]; facts.steps![i] = ms === undefined ? Number.NaN : ms / 1000; });
      }
      // The offer of the last call that got an Ack: a later failure before the Ack leaves it standing.
      const bitmask = kind.spec.hashProtocol?.of(result) ?? null;
      if (bitmask !== null) facts.hashBitmask = bitmask;
      const resultIndex = ERROR_INDEX.get(result.errorKind);
      if (facts.results && resultIndex !== undefined) facts.results[resultIndex]! += 1;
      const cert = kind.spec.certificate ? result.certificate : null;
      if (cert) {
        row.certNotAfter = cert.notAfter / 1000;
        if (certInfo) row.certInfo = `sha256="${escapeLabelValue(cert.sha256)}",subject="${escapeLabelValue(cert.subject)}",issuer="${escapeLabelValue(cert.issuer)}"`;
      }
    },

    setHealth(labels, health) {
      const row = rowOf(labels);
      row.state = health.state;
      row.consecutiveFailures = health.consecutiveFailures;
    },

    setGroup(group, health) {
      let row = groups.rows.get(group);
      if (!row) groups.rows.set(group, (row = { labels: constantText({ group }), serversUp: 0, serversTotal: 0 }));
      row.serversUp = health.serversUp;
      row.serversTotal = health.serversTotal;
    },

    setProbeInterval(labels, seconds) {
      const row = rowOf(labels);
      row.interval = seconds ?? Number.NaN;
    },

    setThresholds(labels, thresholds) {
      const row = rowOf(labels);
      if (thresholdFamilies.every((f) => f === null)) return;
      row.thresholds = [thresholds.certificates.warnDays * 86_400, thresholds.certificates.criticalDays * 86_400, thresholds.slowThresholdMs / 1000];
    },

    forgetTarget(labels) {
      targets.rows.delete(labels.target);
    },

    forgetGroup(group) {
      groups.rows.delete(group);
    },
  };
}

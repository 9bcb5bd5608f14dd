import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { METRIC_FAMILIES, type MetricFamily } from '../config/metrics-config.js';
import type { Thresholds } from '../config/policy.js';
import type { TargetConfig, TargetRole } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import { TARGET_STATES, type TargetHealth } from '../health/types.js';
import { CHECK_KINDS, CHECKS, type CheckSeries } from '../probe/checks.js';
import { ERROR_KINDS, type CheckKind, type ProbeResult } from '../probe/types.js';

// A type, not an interface: a label set of prom-client's string-keyed series.
export type TargetLabels = {
  target: string;
  group: string;
  role: TargetRole;
};

/** The labels of a target's series. */
export function labelsOf(config: Pick<TargetConfig, 'name' | 'group' | 'role'>): TargetLabels {
  return { target: config.name, group: config.group, role: config.role };
}

/**
 * A target's labels and one more, built as a literal. prom-client keeps the label object of every series it sets;
 * one built by spread ({ ...labels, state }) takes about 2.5 times the memory (measured on Node 20: 563 vs 219
 * bytes per series with its hash key), which at 10,000 targets and ~30 series each is tens of MiB.
 */
export function withLabel(labels: TargetLabels, name: string, value: string): Record<string, string> {
  // Labels beyond the three (constant labels such as site) come along, after them.
  if (Object.keys(labels).length > 3) return { ...labels, [name]: value };
  return { target: labels.target, group: labels.group, role: labels.role, [name]: value };
}

export interface Metrics {
  /** Records one finished check of a target in the series of its kind (probe/checks.ts); no other kind's move. */
  observe(check: CheckKind, labels: TargetLabels, result: ProbeResult): void;
  /** Publishes a target's debounced state. */
  setHealth(labels: TargetLabels, health: TargetHealth): void;
  setGroup(group: string, health: GroupHealth): void;
  /** Publishes how often a target is probed (null: a cron schedule, no fixed interval); alert rules use it. */
  setProbeInterval(labels: TargetLabels, seconds: number | null): void;
  /** Publishes the thresholds config/policy.ts applies to a target; the alert rules compare against them. */
  setThresholds(labels: TargetLabels, thresholds: Thresholds): void;
  /** How late a probe started against its schedule. */
  observeLag(seconds: number): void;
  /** Counts a probe that failed for sstpwatch's own reasons (error kind monitor_error); no target series moves. */
  observeMonitorError(): void;
  /** Deletes every series of a target no longer configured. */
  forgetTarget(labels: TargetLabels): void;
  forgetGroup(group: string): void;
  /** Publishes the store's write health, read at every scrape: failed writes, pending and dropped results. */
  trackStoreWrites(read: () => StoreWriteCounts): void;
}

/** The store's write counters as it reports them (cumulative since start, except `pending`). */
export interface StoreWriteCounts {
  failedWrites: number;
  /** Results waiting in memory for the next write. */
  pending: number;
  /** Results dropped because the in-memory buffer was full. */
  dropped: number;
}

export interface MetricsOptions {
  /** Adds prom-client's default process metrics to the registry. */
  processMetrics?: boolean;
  /** Per-target families left out of the registry (config `metrics.exclude`); their series are kept nowhere else. */
  exclude?: readonly MetricFamily[];
  /** Labels added to every per-target and per-group series, e.g. `{ site: 'lan' }` (config `site`); none: no label. */
  constantLabels?: ConstantLabels;
}

/** Labels of a fixed value that every per-target and per-group series of an instance carries. */
export type ConstantLabels = Readonly<Record<string, string>>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Label names the series set themselves: a constant label may take none of them. */
const RESERVED_LABELS = ['target', 'group', 'role', 'state', 'result', 'phase', 'stage', 'protocol', 'sha256', 'subject', 'issuer', 'check', 'position', 'url', 'kind', 'status', 'le', 'quantile'];

/** The constant labels, checked: a valid Prometheus label name that no series sets itself, and a string value. */
export function checkConstantLabels(labels: ConstantLabels | undefined): ConstantLabels {
  for (const [name, value] of Object.entries(labels ?? {})) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`constant metric label "${name}" is not a valid Prometheus label name`);
    if (RESERVED_LABELS.includes(name)) throw new Error(`constant metric label "${name}" is a label sstpwatch's series set themselves`);
    if (typeof value !== 'string') throw new Error(`constant metric label "${name}" must be a string`);
  }
  return { ...labels };
}

/**
 * prom-client's default process and Node.js metrics, minus the three gauges it names `*_total`
 * (`nodejs_active_{handles,requests,resources}_total`), which `promtool check metrics` rejects: a `_total` name
 * promises a counter. `sum(nodejs_active_handles)` etc. give the same numbers.
 */
export const DROPPED_PROCESS_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/**
 * How often the event loop delay histogram (`nodejs_eventloop_lag_p99_seconds`...) samples, ms. prom-client's
 * default, 10 ms, wakes the loop 100 times a second: ~10 ms of CPU a second on an idle service, most of what 100
 * targets cost beyond the probes themselves. Every stall of 100 ms or more still shows, shorter ones are sampled;
 * sstpwatch_scheduler_lag_seconds is the probe-level figure.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  for (const name of DROPPED_PROCESS_GAUGES) registry.removeSingleMetric(name);
}

/** Creates the contract's metrics in `registry` (never the global one). */
export function createMetrics(registry: Registry, options: MetricsOptions = {}): Metrics {
  if (options.processMetrics ?? true) collectProcessMetrics(registry);
  const constant = checkConstantLabels(options.constantLabels);
  const constantNames = Object.keys(constant);
  const targetLabels = ['target', 'group', 'role', ...constantNames];
  /** A target's labels with the constant ones. */
  const scope = (labels: TargetLabels): TargetLabels => (constantNames.length ? { ...labels, ...constant } : labels);
  const registers = [registry];

  const up = new Gauge({ name: 'sstp_target_up', help: 'Debounced state: 1 up, 0 down (absent while unknown or in maintenance).', labelNames: targetLabels, registers });
  const state = new Gauge({ name: 'sstp_target_state', help: 'Debounced state, one-hot over up/down/unknown/maintenance.', labelNames: [...targetLabels, 'state'], registers });
  const kinds = Object.fromEntries(CHECK_KINDS.map((check) => [check, kindSeries(CHECKS[check].series, registers, targetLabels)])) as Record<CheckKind, KindSeries>;
  const failures = new Gauge({ name: 'sstp_target_consecutive_failures', help: 'Failed probes in a row.', labelNames: targetLabels, registers });
  const certNotAfter = new Gauge({ name: 'sstp_cert_not_after_timestamp_seconds', help: 'Expiry of the leaf certificate presented (Unix seconds).', labelNames: targetLabels, registers });
  const certInfo = new Gauge({ name: 'sstp_cert_info', help: 'The leaf certificate now presented.', labelNames: [...targetLabels, 'sha256', 'subject', 'issuer'], registers });
  const groupUp = new Gauge({ name: 'sstp_group_servers_up', help: 'Servers of the group whose state is up.', labelNames: ['group', ...constantNames], registers });
  const groupTotal = new Gauge({ name: 'sstp_group_servers', help: 'Servers configured in the group.', labelNames: ['group', ...constantNames], registers });
  const interval = new Gauge({ name: 'sstp_probe_interval_seconds', help: 'Configured probe interval (absent for cron schedules).', labelNames: targetLabels, registers });
  const certWarning = new Gauge({ name: 'sstp_cert_warning_threshold_seconds', help: 'certificates.warn_days in seconds: a certificate expiring sooner is a warning.', labelNames: targetLabels, registers });
  const certCritical = new Gauge({ name: 'sstp_cert_critical_threshold_seconds', help: 'certificates.critical_days in seconds: a certificate expiring sooner is critical.', labelNames: targetLabels, registers });
  const slowThreshold = new Gauge({ name: 'sstp_probe_slow_threshold_seconds', help: 'slow_threshold: probes taking longer are slow.', labelNames: targetLabels, registers });
  const lag = new Histogram({
    name: 'sstpwatch_scheduler_lag_seconds',
    help: 'How late probes start against their schedule.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  let readStore: (() => StoreWriteCounts) | null = null;
  const storeSeen = { failedWrites: 0, dropped: 0 };
  /** Brings the store series up to date (called by each of them at scrape time). */
  function syncStore(): void {
    if (!readStore) return;
    const counts = readStore();
    if (counts.failedWrites > storeSeen.failedWrites) storeWriteFailures.inc(counts.failedWrites - storeSeen.failedWrites);
    if (counts.dropped > storeSeen.dropped) storeDropped.inc(counts.dropped - storeSeen.dropped);
    storeSeen.failedWrites = Math.max(storeSeen.failedWrites, counts.failedWrites);
    storeSeen.dropped = Math.max(storeSeen.dropped, counts.dropped);
    storePending.set(counts.pending);
  }
  const storeWriteFailures = new Counter({ name: 'sstpwatch_store_write_failures_total', help: 'Database writes (batches) that failed; their rows stayed queued in memory.', registers, collect: syncStore });
  const storePending = new Gauge({ name: 'sstpwatch_store_pending_results', help: 'Results queued in memory, not yet written to the database.', registers, collect: syncStore });
  const storeDropped = new Counter({ name: 'sstpwatch_store_dropped_results_total', help: 'Results dropped (oldest first) because the in-memory queue was full while writes failed.', registers, collect: syncStore });
  const monitorErrors = new Counter({
    name: 'sstpwatch_probe_monitor_errors_total',
    help: 'Probes that failed because of sstpwatch itself (out of file descriptors or memory, or a request it refused to send); they count against no target.',
    registers,
  });

  /** The cert_info label set now exported per target, so a new certificate replaces the old series. */
  const certLabels = new Map<string, { sha256: string; subject: string; issuer: string }>();

  function setCertificate(labels: TargetLabels, result: ProbeResult): void {
    const cert = result.certificate;
    if (!cert) return;
    certNotAfter.set(labels, cert.notAfter / 1000);
    const next = { sha256: cert.sha256, subject: cert.subject, issuer: cert.issuer };
    const previous = certLabels.get(labels.target);
    if (previous && previous.sha256 !== next.sha256) certInfo.remove({ ...labels, ...previous });
    certInfo.set({ ...labels, sha256: next.sha256, subject: next.subject, issuer: next.issuer }, 1);
    certLabels.set(labels.target, next);
  }

  // Left out of /metrics; the objects stay so that the code setting them needs no case of its own.
  for (const family of options.exclude ?? []) for (const name of METRIC_FAMILIES[family]) registry.removeSingleMetric(name);

  return {
    observe(check, target, result) {
      const labels = scope(target);
      const series = kinds[check];
      series.success.set(labels, result.ok ? 1 : 0);
      series.lastTimestamp.set(labels, result.at / 1000);
      series.duration?.observe(labels, result.durationMs / 1000);
      const times = series.spec.steps.of(result);
      for (const step of series.spec.steps.steps) {
        const ms = times[step];
        const stepLabels = withLabel(labels, series.spec.steps.label, step);
        if (ms === undefined) series.steps.remove(stepLabels);
        else series.steps.set(stepLabels, ms / 1000);
      }
      series.statusCode?.set(labels, result.statusCode ?? 0);
      if (series.hashProtocol && series.spec.hashProtocol) {
        // The offer of the last call that got an Ack: a later failure before the Ack leaves it standing.
        const bitmask = series.spec.hashProtocol.of(result);
        if (bitmask !== null) for (const [protocol, bit] of HASH_PROTOCOLS) series.hashProtocol.set(withLabel(labels, 'protocol', protocol), bitmask & bit ? 1 : 0);
      }
      series.results.inc(withLabel(labels, 'result', result.errorKind));
      if (series.spec.certificate) setCertificate(labels, result);
    },

    setHealth(target, health) {
      const labels = scope(target);
      if (health.state === 'up' || health.state === 'down') up.set(labels, health.state === 'up' ? 1 : 0);
      else up.remove(labels);
      for (const s of TARGET_STATES) state.set(withLabel(labels, 'state', s), s === health.state ? 1 : 0);
      failures.set(labels, health.consecutiveFailures);
    },

    setGroup(group, health) {
      groupUp.set({ group, ...constant }, health.serversUp);
      groupTotal.set({ group, ...constant }, health.serversTotal);
    },

    setProbeInterval(target, seconds) {
      const labels = scope(target);
      if (seconds === null) interval.remove(labels);
      else interval.set(labels, seconds);
    },

    setThresholds(target, thresholds) {
      const labels = scope(target);
      certWarning.set(labels, thresholds.certificates.warnDays * 86_400);
      certCritical.set(labels, thresholds.certificates.criticalDays * 86_400);
      slowThreshold.set(labels, thresholds.slowThresholdMs / 1000);
    },

    observeLag(seconds) {
      lag.observe(Math.max(0, seconds));
    },

    observeMonitorError() {
      monitorErrors.inc();
    },

    forgetTarget(target) {
      const labels = scope(target);
      // prom-client removes exact label sets only: name every combination this module ever set.
      for (const metric of [up, failures, certNotAfter, interval, certWarning, certCritical, slowThreshold]) metric.remove(labels);
      for (const s of TARGET_STATES) state.remove({ ...labels, state: s });
      for (const series of Object.values(kinds)) {
        for (const metric of [series.success, series.lastTimestamp, series.duration, series.statusCode]) metric?.remove(labels);
        for (const [protocol] of HASH_PROTOCOLS) series.hashProtocol?.remove({ ...labels, protocol });
        for (const step of series.spec.steps.steps) series.steps.remove({ ...labels, [series.spec.steps.label]: step });
        for (const kind of ERROR_KINDS) series.results.remove({ ...labels, result: kind });
      }
      const cert = certLabels.get(labels.target);
      if (cert) certInfo.remove({ ...labels, ...cert });
      certLabels.delete(labels.target);
    },

    forgetGroup(group) {
      groupUp.remove({ group, ...constant });
      groupTotal.remove({ group, ...constant });
    },

    trackStoreWrites(read) {
      readStore = read;
      syncStore();
    },
  };
}

/** The series of one kind of check, built from its description in the check table. */
interface KindSeries {
  spec: CheckSeries;
  success: Gauge;
  lastTimestamp: Gauge;
  results: Counter;
  steps: Gauge;
  duration: Histogram | null;
  statusCode: Gauge | null;
  hashProtocol: Gauge | null;
}

const HASH_PROTOCOLS = [
  ['sha1', 0x01],
  ['sha256', 0x02],
] as const;

function kindSeries(spec: CheckSeries, registers: Registry[], labelNames: string[]): KindSeries {
  const gauge = (series: { name: string; help: string }, extra: string[] = []): Gauge =>
    new Gauge({ name: series.name, help: series.help, labelNames: [...labelNames, ...extra], registers });
  return {
    spec,
    success: gauge(spec.success),
    lastTimestamp: gauge(spec.lastTimestamp),
    results: new Counter({ name: spec.results.name, help: spec.results.help, labelNames: [...labelNames, 'result'], registers }),
    steps: gauge(spec.steps, [spec.steps.label]),
    duration: spec.duration
      ? new Histogram({ name: spec.duration.name, help: spec.duration.help, labelNames, buckets: spec.duration.buckets, registers })
      : null,
    statusCode: spec.statusCode ? gauge(spec.statusCode) : null,
    hashProtocol: spec.hashProtocol ? gauge(spec.hashProtocol, ['protocol']) : null,
  };
}

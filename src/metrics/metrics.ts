import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { MetricFamily } from '../config/metrics-config.js';
import type { Thresholds } from '../config/policy.js';
import type { TargetConfig, TargetRole } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import type { TargetHealth } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { createTargetFamilies } from './target-families.js';

// A type, not an interface: assignable to a string-keyed label set.
export type TargetLabels = {
  target: string;
  group: string;
  role: TargetRole;
};

/** The labels of a target's series. */
export function labelsOf(config: Pick<TargetConfig, 'name' | 'group' | 'role'>): TargetLabels {
  return { target: config.name, group: config.group, role: config.role };
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
  /** Per-target families left out (config `metrics.exclude`): never created, their values kept nowhere. */
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
  // Excluded families are never created: no series, no memory.
  const targets = createTargetFamilies(registry, options.exclude ?? [], constant);
  const registers = [registry];
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

  return {
    ...targets,

    observeLag(seconds) {
      lag.observe(Math.max(0, seconds));
    },

    observeMonitorError() {
      monitorErrors.inc();
    },

    trackStoreWrites(read) {
      readStore = read;
      syncStore();
    },
  };
}

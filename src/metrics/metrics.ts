import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { TargetRole } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import { TARGET_STATES, type TargetHealth } from '../health/types.js';
import { ERROR_KINDS, type ProbeResult } from '../probe/types.js';

export interface TargetLabels {
  target: string;
  group: string;
  role: TargetRole;
}

const PHASES = ['dns', 'connect', 'tls', 'processing'] as const;
/** Stages of the deep SSTP check: the transport's phases, then POST -> 200, Call Connect Request -> reply, Disconnect -> Ack. */
export const SSTP_STAGES = ['dns', 'connect', 'tls', 'http', 'call', 'disconnect'] as const;

export interface Metrics {
  /** Records one finished probe. */
  observeProbe(labels: TargetLabels, result: ProbeResult): void;
  /** Publishes a target's debounced state. */
  setHealth(labels: TargetLabels, health: TargetHealth): void;
  setGroup(group: string, health: GroupHealth): void;
  /** Publishes how often a target is probed (null: a cron schedule, no fixed interval); alert rules use it. */
  setProbeInterval(labels: TargetLabels, seconds: number | null): void;
  /** Records one finished deep SSTP check (its own series: it never touches the HEAD probe's). */
  observeSstp(labels: TargetLabels, result: ProbeResult): void;
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
}

/**
 * prom-client's default process and Node.js metrics, minus the three gauges it names `*_total`
 * (`nodejs_active_{handles,requests,resources}_total`), which `promtool check metrics` rejects: a `_total` name
 * promises a counter. `sum(nodejs_active_handles)` etc. give the same numbers.
 */
export const DROPPED_PROCESS_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_PROCESS_GAUGES) registry.removeSingleMetric(name);
}

/** Creates the contract's metrics in `registry` (never the global one). */
export function createMetrics(registry: Registry, options: MetricsOptions = {}): Metrics {
  if (options.processMetrics ?? true) collectProcessMetrics(registry);
  const targetLabels = ['target', 'group', 'role'] as const;
  const registers = [registry];

  const up = new Gauge({ name: 'sstp_target_up', help: 'Debounced state: 1 up, 0 down (absent while unknown or in maintenance).', labelNames: targetLabels, registers });
  const state = new Gauge({ name: 'sstp_target_state', help: 'Debounced state, one-hot over up/down/unknown/maintenance.', labelNames: [...targetLabels, 'state'], registers });
  const success = new Gauge({ name: 'sstp_probe_success', help: 'Last raw probe: 1 ok, 0 failed.', labelNames: targetLabels, registers });
  const lastTimestamp = new Gauge({ name: 'sstp_probe_last_timestamp_seconds', help: 'When the last probe finished (Unix seconds).', labelNames: targetLabels, registers });
  const duration = new Histogram({
    name: 'sstp_probe_duration_seconds',
    help: 'Total duration of every probe.',
    labelNames: targetLabels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const phase = new Gauge({ name: 'sstp_probe_phase_seconds', help: "Last probe's duration by phase (dns, connect, tls, processing).", labelNames: [...targetLabels, 'phase'], registers });
  const statusCode = new Gauge({ name: 'sstp_probe_http_status_code', help: 'Last HTTP status code (0 when none).', labelNames: targetLabels, registers });
  const probes = new Counter({ name: 'sstp_probes_total', help: 'Probes by result (error_kind).', labelNames: [...targetLabels, 'result'], registers });
  const failures = new Gauge({ name: 'sstp_target_consecutive_failures', help: 'Failed probes in a row.', labelNames: targetLabels, registers });
  const certNotAfter = new Gauge({ name: 'sstp_cert_not_after_timestamp_seconds', help: 'Expiry of the leaf certificate presented (Unix seconds).', labelNames: targetLabels, registers });
  const certInfo = new Gauge({ name: 'sstp_cert_info', help: 'The leaf certificate now presented.', labelNames: [...targetLabels, 'sha256', 'subject', 'issuer'], registers });
  const groupUp = new Gauge({ name: 'sstp_group_servers_up', help: 'Servers of the group whose state is up.', labelNames: ['group'], registers });
  const groupTotal = new Gauge({ name: 'sstp_group_servers', help: 'Servers configured in the group.', labelNames: ['group'], registers });
  const interval = new Gauge({ name: 'sstp_probe_interval_seconds', help: 'Configured probe interval (absent for cron schedules).', labelNames: targetLabels, registers });
  const handshakeSuccess = new Gauge({ name: 'sstp_handshake_success', help: 'Last deep SSTP check: 1 the call was accepted (Call Connect Ack with SHA-256), 0 failed.', labelNames: targetLabels, registers });
  const handshakeStage = new Gauge({ name: 'sstp_handshake_stage_seconds', help: "Last deep SSTP check's duration by stage (dns, connect, tls, http, call, disconnect).", labelNames: [...targetLabels, 'stage'], registers });
  const handshakeTimestamp = new Gauge({ name: 'sstp_handshake_last_timestamp_seconds', help: 'When the last deep SSTP check finished (Unix seconds).', labelNames: targetLabels, registers });
  const handshakes = new Counter({ name: 'sstp_handshakes_total', help: 'Deep SSTP checks by result (error_kind).', labelNames: [...targetLabels, 'result'], registers });
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
    certInfo.set({ ...labels, ...next }, 1);
    certLabels.set(labels.target, next);
  }

  return {
    observeProbe(labels, result) {
      success.set(labels, result.ok ? 1 : 0);
      lastTimestamp.set(labels, result.at / 1000);
      duration.observe(labels, result.durationMs / 1000);
      for (const p of PHASES) {
        const ms = result.phasesMs[p];
        if (ms === undefined) phase.remove({ ...labels, phase: p });
        else phase.set({ ...labels, phase: p }, ms / 1000);
      }
      statusCode.set(labels, result.statusCode ?? 0);
      probes.inc({ ...labels, result: result.errorKind });
      setCertificate(labels, result);
    },

    setHealth(labels, health) {
      if (health.state === 'up' || health.state === 'down') up.set(labels, health.state === 'up' ? 1 : 0);
      else up.remove(labels);
      for (const s of TARGET_STATES) state.set({ ...labels, state: s }, s === health.state ? 1 : 0);
      failures.set(labels, health.consecutiveFailures);
    },

    setGroup(group, health) {
      groupUp.set({ group }, health.serversUp);
      groupTotal.set({ group }, health.serversTotal);
    },

    setProbeInterval(labels, seconds) {
      if (seconds === null) interval.remove(labels);
      else interval.set(labels, seconds);
    },

    observeSstp(labels, result) {
      handshakeSuccess.set(labels, result.ok ? 1 : 0);
      handshakeTimestamp.set(labels, result.at / 1000);
      handshakes.inc({ ...labels, result: result.errorKind });
      const stages: Partial<Record<(typeof SSTP_STAGES)[number], number>> = {
        dns: result.phasesMs.dns,
        connect: result.phasesMs.connect,
        tls: result.phasesMs.tls,
        ...result.sstp?.stagesMs,
      };
      for (const stage of SSTP_STAGES) {
        const ms = stages[stage];
        if (ms === undefined) handshakeStage.remove({ ...labels, stage });
        else handshakeStage.set({ ...labels, stage }, ms / 1000);
      }
    },

    observeLag(seconds) {
      lag.observe(Math.max(0, seconds));
    },

    observeMonitorError() {
      monitorErrors.inc();
    },

    forgetTarget(labels) {
      // prom-client removes exact label sets only: name every combination this module ever set.
      for (const metric of [up, success, lastTimestamp, duration, statusCode, failures, certNotAfter, interval]) metric.remove(labels);
      for (const s of TARGET_STATES) state.remove({ ...labels, state: s });
      for (const p of PHASES) phase.remove({ ...labels, phase: p });
      for (const kind of ERROR_KINDS) probes.remove({ ...labels, result: kind });
      handshakeSuccess.remove(labels);
      handshakeTimestamp.remove(labels);
      for (const stage of SSTP_STAGES) handshakeStage.remove({ ...labels, stage });
      for (const kind of ERROR_KINDS) handshakes.remove({ ...labels, result: kind });
      const cert = certLabels.get(labels.target);
      if (cert) certInfo.remove({ ...labels, ...cert });
      certLabels.delete(labels.target);
    },

    forgetGroup(group) {
      groupUp.remove({ group });
      groupTotal.remove({ group });
    },

    trackStoreWrites(read) {
      readStore = read;
      syncStore();
    },
  };
}

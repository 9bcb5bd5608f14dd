// `metrics: { exclude: [...] }`: per-target series families a large fleet can drop from /metrics, the way exporters
// let users trim cardinality. Named for what they are, not for the metric names (docs/metrics.md maps them).
// The shape only (imported by config/types.ts); schema.ts reads the section.

/** The per-target families that can be left out, with the series each one is (docs/metrics.md). */
export const METRIC_FAMILIES = {
  /** sstp_probe_duration_seconds: 14 series per target (11 buckets, +Inf, sum, count). */
  duration_histogram: ['sstp_probe_duration_seconds'],
  /** sstp_probe_phase_seconds{phase}, sstp_handshake_stage_seconds{stage}: 4 (HEAD) and up to 6 (deep check) per target. */
  phases: ['sstp_probe_phase_seconds', 'sstp_handshake_stage_seconds'],
  /** sstp_target_state{state}: 4 per target (sstp_target_up stays). */
  state_one_hot: ['sstp_target_state'],
  /** sstp_probes_total{result}, sstp_handshakes_total{result}: one per error kind seen. */
  result_counters: ['sstp_probes_total', 'sstp_handshakes_total'],
  /** sstp_probe_http_status_code. */
  status_code: ['sstp_probe_http_status_code'],
  /** sstp_cert_info{sha256,subject,issuer}: one per target, long labels. */
  cert_info: ['sstp_cert_info'],
  /** sstp_cert_warning/critical_threshold_seconds, sstp_probe_slow_threshold_seconds: 3 per target. */
  thresholds: ['sstp_cert_warning_threshold_seconds', 'sstp_cert_critical_threshold_seconds', 'sstp_probe_slow_threshold_seconds'],
} as const;

export type MetricFamily = keyof typeof METRIC_FAMILIES;
export const METRIC_FAMILY_NAMES = Object.keys(METRIC_FAMILIES) as MetricFamily[];

export interface MetricsConfig {
  /** Families left out of /metrics (in the order written, without repeats). */
  exclude: MetricFamily[];
}

// The one place that decides what counts as "expires soon" and "slow" for a target. The API's findings, the
// status page, `sstpwatch check`, the exported threshold gauges (and through them the alert rules and the
// dashboards) all ask this module, so that `certificates:` and `slow_threshold:` in the config move all of them.
import type { CertificateThresholds, ProbeSettings } from './types.js';

const DAY_MS = 86_400_000;

export const DEFAULT_CERTIFICATE_THRESHOLDS: Readonly<CertificateThresholds> = Object.freeze({ warnDays: 21, criticalDays: 7 });
export const DEFAULT_SLOW_THRESHOLD_MS = 1_000;

/** The thresholds in force for one target. */
export interface Thresholds {
  certificates: CertificateThresholds;
  slowThresholdMs: number;
}

export function thresholdsOf(settings: Pick<ProbeSettings, 'certificates' | 'slowThresholdMs'>): Thresholds {
  return {
    certificates: { ...(settings.certificates ?? DEFAULT_CERTIFICATE_THRESHOLDS) },
    slowThresholdMs: settings.slowThresholdMs ?? DEFAULT_SLOW_THRESHOLD_MS,
  };
}

export type CertLevel = 'ok' | 'warning' | 'critical' | 'expired';

/**
 * A certificate expiring at `notAfter` seen at `now`: expired, critical (less than criticalDays left), warning
 * (less than warnDays left) or ok. The alert rules compare the same way: `not_after - time() < threshold`.
 */
export function certLevel(notAfter: number, now: number, thresholds: CertificateThresholds): CertLevel {
  const left = notAfter - now;
  if (left <= 0) return 'expired';
  if (left < thresholds.criticalDays * DAY_MS) return 'critical';
  if (left < thresholds.warnDays * DAY_MS) return 'warning';
  return 'ok';
}

/** A probe (or a p95 of probes) that took longer than the target's slow threshold. */
export function isSlow(durationMs: number, thresholds: Pick<Thresholds, 'slowThresholdMs'>): boolean {
  return durationMs > thresholds.slowThresholdMs;
}

/** `21 days` / `1 day`: thresholds as people read them in messages. */
export function formatDays(days: number): string {
  return `${days} day${days === 1 ? '' : 's'}`;
}

import type { GroupView, TargetView } from './deps.js';
import type { CertificateJson, GroupStatusJson, ResultJson, TargetStatusJson } from './schemas.js';
import type { CertificateInfo, ProbeResult } from '../probe/types.js';
import type { Incident } from '../health/incidents.js';
import { incidentDurationS } from '../health/incidents.js';
import type { RollupPoint, StoredResult } from '../store/store.js';

const DAY_MS = 86_400_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** The contract's result object. */
export function presentResult(r: StoredResult | ProbeResult): ResultJson {
  return {
    at: iso(r.at),
    ok: r.ok,
    error_kind: r.errorKind,
    message: r.message,
    status_code: r.statusCode,
    http_version: r.httpVersion,
    duration_ms: r.durationMs,
    phases_ms: { ...r.phasesMs },
    tls_version: r.tlsVersion,
    certificate_sha256: r.certificateSha256,
  };
}

export function presentRollup(r: RollupPoint) {
  return { at: iso(r.at), probes: r.probes, failures: r.failures, avg_ms: r.avgMs, max_ms: r.maxMs, p95_ms: r.p95Ms };
}

export function presentIncident(incident: Incident, now: number) {
  return {
    started_at: iso(incident.startedAt),
    ended_at: incident.endedAt === null ? null : iso(incident.endedAt),
    duration_s: Math.round(incidentDurationS(incident, now) * 1000) / 1000,
    cause: incident.cause,
    message: incident.message,
  };
}

export function presentCertificate(c: CertificateInfo, now: number): CertificateJson {
  return {
    subject: c.subject,
    issuer: c.issuer,
    san: c.san,
    not_before: iso(c.notBefore),
    not_after: iso(c.notAfter),
    days_left: Math.round(((c.notAfter - now) / DAY_MS) * 100) / 100,
    sha256: c.sha256,
    key_type: c.keyType,
    key_bits: c.keyBits,
  };
}

export function presentTarget({ config, health }: TargetView, now: number): TargetStatusJson {
  const last = health.lastResult;
  return {
    name: config.name,
    group: config.group,
    role: config.role,
    url: config.url,
    hostname: config.hostname,
    state: health.state,
    since: health.since === null ? null : iso(health.since),
    consecutive_failures: health.consecutiveFailures,
    consecutive_successes: health.consecutiveSuccesses,
    last_result: last ? presentResult(last) : null,
    certificate: last?.certificate ? presentCertificate(last.certificate, now) : null,
    maintenance: health.maintenance ? { until: iso(health.maintenance.until), reason: health.maintenance.reason } : null,
  };
}

export function presentGroup({ config, health }: GroupView): GroupStatusJson {
  return {
    name: config.name,
    hostname: config.hostname,
    state: health.state,
    servers_up: health.serversUp,
    servers_total: health.serversTotal,
  };
}

/** A query time bound: ISO 8601 or Unix milliseconds; null when it is neither. */
export function parseTimeBound(value: string): number | null {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

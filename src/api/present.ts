import { siteLabel, type SiteFinding, type SiteResultSummary, type SiteView, type TargetSites } from '../health/sites.js';
import type { CertificateView, GroupView, TargetView } from '../health/views.js';
import type { MaintenanceWindowSource } from './deps.js';
import type {
  CertificateChecksJson,
  CertificateJson,
  ChainCertificateJson,
  FindingJson,
  GroupStatusJson,
  ResultJson,
  ScheduledMaintenanceJson,
  RevocationSourceJson,
  SstpDetailsJson,
  TargetStatusJson,
} from './schemas.js';
import type { SiteFindingJson, TargetSiteJson } from './schemas.js';
import { chainRevoked, type GroupCertificateReport, type TargetRevocation } from '../health/certificates.js';
import { ekuName, positionOf } from '../probe/chain.js';
import type { CertificateDetails, CertificateInfo, ChainChecks, ProbeResult, SstpDetails } from '../probe/types.js';
import type { Incident } from '../health/incidents.js';
import type { ScheduledMaintenance } from '../health/maintenance-calendar.js';
import type { Occurrence } from '../health/maintenance-windows.js';
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
    ...(r.sstp ? { sstp: presentSstp(r.sstp) } : {}),
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

function presentSstp(s: SstpDetails): SstpDetailsJson {
  return {
    stage_reached: s.stageReached,
    reply: s.reply,
    stages_ms: { ...s.stagesMs },
    hash_bitmask: s.hashBitmask,
    status: s.status ? { code: s.status.code, attribute_id: s.status.attributeId } : null,
    disconnect_sent: s.disconnectSent,
    disconnect_acked: s.disconnectAcked,
    abort_sent: s.abortSent,
    warning: s.warning,
    correlation_id: s.correlationId,
  };
}

/** A target's or group's configured windows now; null when none covers it, undefined when the app has no calendar. */
export function scheduledFor(
  windows: MaintenanceWindowSource | undefined,
  subject: { target: TargetView['config'] } | { group: string },
  now: number,
): ScheduledMaintenance | null | undefined {
  if (!windows) return undefined;
  if ('target' in subject) return windows.covers(subject.target) ? windows.forTarget(subject.target, now) : null;
  return windows.coversGroup(subject.group) ? windows.forGroup(subject.group, now) : null;
}

function presentOccurrence(o: Occurrence | null) {
  return o === null ? null : { window: o.window, start: iso(o.start), end: iso(o.end) };
}

export function presentScheduled(s: ScheduledMaintenance | null | undefined): { scheduled_maintenance?: ScheduledMaintenanceJson | null } {
  if (s === undefined) return {};
  return { scheduled_maintenance: s === null ? null : { current: presentOccurrence(s.current), next: presentOccurrence(s.next) } };
}

export function presentTarget(
  { config, health, lastResults, sites }: TargetView,
  now: number,
  certificates?: CertificateView,
  scheduled?: ScheduledMaintenance | null,
): TargetStatusJson {
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
    ...(config.settings.check === 'sstp' ? { last_sstp_result: lastResults.sstp ? presentResult(lastResults.sstp) : null } : {}),
    certificate: last?.certificate ? presentCertificate(last.certificate, now) : null,
    maintenance: health.maintenance ? { until: iso(health.maintenance.until), reason: health.maintenance.reason } : null,
    ...presentScheduled(scheduled),
    ...(certificates ? presentCertificates(certificates, now) : {}),
    ...(sites ? presentSites(sites) : {}),
  };
}

function presentSiteResult(r: SiteResultSummary) {
  return { at: iso(r.at), ok: r.ok, error_kind: r.errorKind, status_code: r.statusCode, duration_ms: r.durationMs, message: r.message };
}

function presentSite(s: SiteView): TargetSiteJson {
  return {
    site: siteLabel(s.site),
    state: s.state,
    since: s.since === null ? null : iso(s.since),
    stale: s.stale,
    updated_at: s.updatedAt === null ? null : iso(s.updatedAt),
    last_result: s.lastResult ? presentSiteResult(s.lastResult) : null,
  };
}

function presentSiteFinding(f: SiteFinding): SiteFindingJson {
  return { code: f.code, severity: f.severity, sites: f.sites.map(siteLabel), message: f.message, fix: f.fix };
}

/** A target's sites and what their disagreement tells. */
export function presentSites(sites: TargetSites): { sites: TargetSiteJson[]; site_findings: SiteFindingJson[] } {
  return { sites: sites.sites.map(presentSite), site_findings: sites.findings.map(presentSiteFinding) };
}

/** The presented chain, its checks and its revocation sources. */
export function presentCertificates(
  { chain, checks, revocation }: CertificateView,
  now: number,
): { certificate_chain: ChainCertificateJson[]; certificate_checks: CertificateChecksJson | null; revocation: RevocationSourceJson[] } {
  return {
    certificate_chain: chain.map((cert, i) => presentChainCertificate(cert, i, chain, now)),
    certificate_checks: checks ? presentChecks(checks, chainRevoked(revocation), now) : null,
    revocation: revocation.map(presentRevocation),
  };
}

function presentChainCertificate(cert: CertificateDetails, index: number, chain: readonly CertificateDetails[], now: number): ChainCertificateJson {
  return {
    ...presentCertificate(cert, now),
    position: positionOf(chain, index),
    serial_number: cert.serialNumber,
    ekus: cert.ekus === null ? null : cert.ekus.map(ekuName),
    is_ca: cert.isCa,
    crl_urls: cert.crlUrls,
    ocsp_urls: cert.ocspUrls,
  };
}

function presentChecks(checks: ChainChecks, revoked: boolean | null, now: number): CertificateChecksJson {
  const { earliestExpiry: e } = checks;
  return {
    server_auth_eku: checks.serverAuthEku,
    name_matches_hostname: checks.nameMatchesHostname,
    chain_trusted: checks.chainTrusted,
    chain_error: checks.chainError,
    earliest_expiry: {
      not_after: iso(e.notAfter),
      days_left: Math.round(((e.notAfter - now) / DAY_MS) * 100) / 100,
      position: e.position,
      subject: e.subject,
      sha256: e.sha256,
    },
    revoked,
  };
}

function presentRevocation(r: TargetRevocation): RevocationSourceJson {
  const s = r.status;
  return {
    url: r.url,
    kind: r.kind,
    certificate: r.position,
    subject: r.subject,
    serial_number: r.serialNumber,
    checked_at: s ? iso(s.checkedAt) : null,
    reachable: s ? s.reachable : null,
    error: s?.error ?? null,
    http_status: s?.httpStatus ?? null,
    signature: s?.signature ?? null,
    signature_problem: s?.signatureProblem ?? null,
    this_update: s?.thisUpdate == null ? null : iso(s.thisUpdate),
    next_update: s?.nextUpdate == null ? null : iso(s.nextUpdate),
    revoked: s?.reachable ? s.revokedSerials.includes(r.serialNumber) : null,
    ocsp_status: s?.ocspStatus ?? null,
    revoked_at: s?.revokedAt == null ? null : iso(s.revokedAt),
    delta_crl: s?.delta
      ? {
          url: s.delta.url,
          reachable: s.delta.reachable,
          error: s.delta.error,
          signature: s.delta.signature,
          this_update: s.delta.thisUpdate === null ? null : iso(s.delta.thisUpdate),
          next_update: s.delta.nextUpdate === null ? null : iso(s.delta.nextUpdate),
        }
      : null,
  };
}

/** A group's certificate findings, most severe first. */
export function presentFindings(report: GroupCertificateReport): Pick<GroupStatusJson, 'certificate_consistency' | 'findings'> {
  const findings: FindingJson[] = [...report.findings]
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1))
    .map((f) => ({ code: f.code, severity: f.severity, targets: f.targets, message: f.message, fix: f.fix }));
  const { servers, vip, offloadHash } = report.consistent;
  return { certificate_consistency: { servers, vip, offload_hash: offloadHash }, findings };
}

export function presentGroup(
  { config, health }: GroupView,
  certificates?: GroupCertificateReport,
  scheduled?: ScheduledMaintenance | null,
): GroupStatusJson {
  return {
    name: config.name,
    hostname: config.hostname,
    state: health.state,
    servers_up: health.serversUp,
    servers_total: health.serversTotal,
    ...presentScheduled(scheduled),
    ...(certificates ? presentFindings(certificates) : {}),
  };
}

/** A query time bound: ISO 8601 or Unix milliseconds; null when it is neither. */
export function parseTimeBound(value: string): number | null {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

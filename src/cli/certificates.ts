// `sstpwatch check`: the presented chain, the SSTP certificate checks, revocation reachability (fetched now)
// and, with --offload-hash, the TLS-offload hash comparison, each finding with its likely fix.
import { presentCertificates, presentFindings } from '../api/present.js';
import { thresholdsOf } from '../config/policy.js';
import { groupCertificateReport, offloadInstruction, targetRevocation, type GroupCertificateReport, type TargetRevocation } from '../health/certificates.js';
import { daysLeft } from '../probe/certificate.js';
import { describeChainError, ekuName, positionOf } from '../probe/chain.js';
import { checkRevocation, revocationQueries, revocationSources, type RevocationStatus } from '../probe/revocation.js';
import type { ProbeResult, ProbeTarget } from '../probe/types.js';

export interface CertificateInspection {
  report: GroupCertificateReport;
  revocation: TargetRevocation[];
}

export interface InspectOptions {
  /** The hash configured on the offloaded RRAS servers behind this endpoint (a load balancer), normalized. */
  offloadHash: string | null;
  /** Fetch the CRL/OCSP URLs now. */
  revocation: boolean;
  timeoutMs: number;
  check?: typeof checkRevocation;
}

/** The name findings use for the RRAS servers behind the load balancer checked with --offload-hash. */
const OFFLOADED_SERVERS = 'the offloaded RRAS servers';

/** Null when the probe saw no certificate (plain HTTP, or no TLS handshake). */
export async function inspectCertificates(target: ProbeTarget, result: ProbeResult, opts: InspectOptions): Promise<CertificateInspection | null> {
  const chain = result.chain;
  if (!chain || chain.length === 0) return null;
  const statuses = new Map<string, RevocationStatus>();
  if (opts.revocation) {
    const check = opts.check ?? checkRevocation;
    await Promise.all(
      [...revocationQueries(revocationSources(chain))].map(async ([key, query]) => {
        statuses.set(key, await check(query, { timeoutMs: opts.timeoutMs }));
      }),
    );
  }
  const revocation = targetRevocation(chain, (key) => statuses.get(key));
  const me = opts.offloadHash === null ? 'this server' : 'this load balancer';
  const thresholds = thresholdsOf(target.settings).certificates;
  const members = [
    { name: me, role: opts.offloadHash === null ? ('server' as const) : ('vip' as const), offload: false, chain, checks: result.chainChecks ?? null, thresholds },
    ...(opts.offloadHash === null ? [] : [{ name: OFFLOADED_SERVERS, role: 'server' as const, offload: true, chain: null, checks: null, thresholds }]),
  ];
  const report = groupCertificateReport(
    { name: 'check', hostname: target.hostname, offloadCertSha256: opts.offloadHash },
    members,
    new Map([[me, revocation]]),
    result.at,
  );
  // The group wording asks to set the group's config key; on the command line that does not apply.
  report.findings = report.findings.map((f) => ({ ...f, fix: f.fix.replace(/ Then set offload_cert_sha256: "[0-9A-F]+" on group check\.$/, '') }));
  return { report, revocation };
}

/** `sstpwatch check --json` additions. */
export function inspectionJson(result: ProbeResult, inspection: CertificateInspection | null): object {
  if (!inspection || !result.chain) return {};
  const { report, revocation } = inspection;
  return {
    ...presentCertificates({ chain: result.chain, checks: result.chainChecks ?? null, revocation }, result.at),
    findings: presentFindings(report).findings,
  };
}

/** Human lines: the chain, then every finding with its fix, then the offload hint. */
export function describeInspection(
  result: ProbeResult,
  inspection: CertificateInspection | null,
  opts: { hostname: string; offloadHash: string | null },
): string[] {
  const { hostname, offloadHash } = opts;
  const chain = result.chain;
  if (!inspection || !chain) return [];
  const lines = ['', '  chain:'];
  chain.forEach((cert, i) => {
    const days = daysLeft(cert.notAfter, result.at);
    const ekus = cert.ekus === null ? 'no EKU' : cert.ekus.map(ekuName).join(', ');
    lines.push(
      `    ${i}. ${positionOf(chain, i).padEnd(12)} ${cert.subject}`,
      `       ${days >= 0 ? `${days} days left` : `expired ${-days} days ago`}, ${cert.keyType}${cert.keyBits ? ` ${cert.keyBits}` : ''}, ${i === 0 ? `${ekus}, ` : ''}SHA-256 ${cert.sha256}`,
    );
  });
  const checks = result.chainChecks;
  if (checks) {
    const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
    lines.push(
      '',
      '  checks:',
      `    ${mark(checks.serverAuthEku)} Server Authentication EKU`,
      `    ${mark(checks.nameMatchesHostname)} names ${hostname}`,
      `    ${mark(checks.chainTrusted)} chain to a trusted root${checks.chainError ? `: ${describeChainError(checks.chainError)}` : ''}`,
      `    earliest expiry: ${checks.earliestExpiry.position} ${checks.earliestExpiry.subject} on ${new Date(checks.earliestExpiry.notAfter).toISOString()}`,
    );
  }
  if (inspection.revocation.length > 0) {
    lines.push('', '  revocation:');
    for (const r of inspection.revocation) lines.push(`    ${r.kind.toUpperCase().padEnd(4)} ${r.position.padEnd(12)} ${r.url}: ${describeRevocation(r, result.at)}`);
  }
  const findings = [...inspection.report.findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  for (const f of findings) {
    lines.push('', `  ${f.severity.toUpperCase()} ${f.code}: ${f.message}`, `    Fix: ${f.fix}`);
  }
  if (offloadHash === null) {
    lines.push(
      '',
      '  TLS offload: if a load balancer presents this certificate and offloads TLS, on each RRAS server behind it',
      `    ${offloadInstruction(chain[0]!.sha256)}.`,
    );
  } else if (!findings.some((f) => f.code === 'offload_hash_mismatch')) {
    lines.push('', `  TLS offload: this certificate's SHA-256 is the configured hash ${offloadHash}.`);
  }
  return lines;
}

/** One revocation source in a line: reachable or why not, signature, dates, and the verdict on the certificate. */
export function describeRevocation(r: TargetRevocation, now: number): string {
  const s = r.status;
  if (!s) return 'not checked';
  if (!s.reachable) return `UNREACHABLE (${s.error ?? 'no answer'})`;
  const parts: string[] = [];
  if (r.kind === 'ocsp') parts.push(s.revokedSerials.includes(r.serialNumber) ? `REVOKED${s.revokedAt ? ` since ${iso(s.revokedAt)}` : ''}` : (s.ocspStatus ?? 'no status'));
  else parts.push(s.revokedSerials.includes(r.serialNumber) ? 'REVOKED' : 'not listed');
  parts.push(s.signature === 'valid' ? 'signature ok' : s.signature === 'invalid' ? `BAD SIGNATURE (${s.signatureProblem ?? ''})` : `signature not checked (${s.signatureProblem ?? ''})`);
  if (s.nextUpdate !== null) parts.push(`${s.nextUpdate < now ? 'EXPIRED' : 'next update'} ${iso(s.nextUpdate)}`);
  if (s.delta) {
    const d = s.delta;
    parts.push(!d.reachable || d.error ? `delta ${d.url} UNUSABLE (${d.error ?? 'no answer'})` : `delta ${d.url}: ${d.signature === 'valid' ? 'signature ok' : 'BAD SIGNATURE'}${d.nextUpdate !== null ? `, ${d.nextUpdate < now ? 'EXPIRED' : 'next update'} ${iso(d.nextUpdate)}` : ''}`);
  }
  return parts.join(', ');
}

const iso = (ms: number): string => new Date(ms).toISOString();

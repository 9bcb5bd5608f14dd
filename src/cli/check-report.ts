// `sstpwatch check` output, built from sections: the header, the verdict with what it means and the fix, the
// deep check's stages, timings and the certificate, then the chain, revocation and findings. Pure: a checked
// probe in, lines (or the JSON object) and the exit code out.
import { presentCertificate, presentResult } from '../api/present.js';
import { formatDays, thresholdsOf } from '../config/policy.js';
import { daysLeft } from '../probe/certificate.js';
import { diagnose } from '../probe/diagnose.js';
import { describeSstpStages } from '../probe/sstp-diagnose.js';
import type { ProbeResult } from '../probe/types.js';
import type { CheckRequest } from './check-args.js';
import type { AppliedThresholds } from './check-thresholds.js';
import { describeInspection, inspectionJson, type CertificateInspection } from './certificates.js';
import { EXIT_FAILED, EXIT_OK } from './output.js';

/** What one `sstpwatch check` saw: the probe's result and, for the HEAD probe, the certificate inspection. */
export interface CheckOutcome {
  result: ProbeResult;
  inspection: CertificateInspection | null;
}

/** Findings that make every client fail while the probe itself succeeds: the check exits 1 for them. */
const CLIENTS_FAIL = new Set(['certificate_revoked', 'crl_expired', 'crl_unreachable', 'crl_signature_invalid', 'delta_crl_unreachable', 'ocsp_unreachable', 'ocsp_signature_invalid', 'ocsp_response_expired', 'ocsp_unknown']);

export function checkExitCode(outcome: CheckOutcome): number {
  return outcome.result.ok && blockingFindings(outcome).length === 0 ? EXIT_OK : EXIT_FAILED;
}

function blockingFindings(outcome: CheckOutcome) {
  return (outcome.inspection?.report.findings ?? []).filter((f) => f.severity === 'critical' && CLIENTS_FAIL.has(f.code));
}

/** `--json`: the contract's result object, the certificate, and the chain, revocation and findings. */
export function checkJson(outcome: CheckOutcome, applied?: AppliedThresholds): object {
  const { result, inspection } = outcome;
  return {
    ...presentResult(result),
    certificate: result.certificate ? presentCertificate(result.certificate, result.at) : null,
    ...inspectionJson(result, inspection),
    ...(applied ? { thresholds: thresholdsJson(applied) } : {}),
  };
}

function thresholdsJson({ thresholds, source }: AppliedThresholds): object {
  return {
    certificates: { warn_days: thresholds.certificates.warnDays, critical_days: thresholds.certificates.criticalDays },
    slow_threshold_ms: thresholds.slowThresholdMs,
    source,
  };
}

function describeThresholds({ thresholds, source }: AppliedThresholds): string[] {
  const { warnDays, criticalDays } = thresholds.certificates;
  return ['', `  thresholds: certificate warning under ${formatDays(warnDays)}, critical under ${formatDays(criticalDays)}; slow above ${thresholds.slowThresholdMs} ms (${source})`];
}

export function checkReport(request: CheckRequest, outcome: CheckOutcome): string[] {
  const { result } = outcome;
  return [
    ...header(request),
    ...verdict(request, result),
    ...(request.sstp ? ['  SSTP handshake, stage by stage:', ...describeSstpStages(result, { plainHttp: request.target.offload }), ''] : []),
    ...details(result),
    ...describeInspection(result, outcome.inspection, { hostname: request.target.hostname, offloadHash: request.offloadHash }),
    ...clientsFail(outcome),
    ...describeThresholds(request.applied),
  ];
}

function header({ target, sstp }: CheckRequest): string[] {
  const how = target.offload ? `Host: ${target.hostname}, plain HTTP: TLS offloaded` : `Host and SNI: ${target.hostname}`;
  return [`${target.url}${target.settings.path}  (${how})${sstp ? '  [deep SSTP check]' : ''}`, ''];
}

function verdict({ target }: CheckRequest, result: ProbeResult): string[] {
  const d = diagnose(result, { url: target.url, hostname: target.hostname, offload: target.offload, now: result.at, thresholds: thresholdsOf(target.settings) });
  const lines = [`  ${d.verdict.toUpperCase()}: ${d.headline}`];
  if (!result.ok) lines.push(`  probe said: ${result.message} [${result.errorKind}${d.phase ? `, ${d.phase} phase` : ''}]`);
  lines.push('', ...wrap(d.explanation, '  '));
  if (d.fix) lines.push('', ...wrap(`Fix: ${d.fix}`, '  '));
  lines.push('');
  return lines;
}

function details(result: ProbeResult): string[] {
  const lines = [`  timings:   ${timings(result)}`];
  if (result.statusCode !== null) lines.push(`  response:  HTTP/${result.httpVersion ?? '?'} ${result.statusCode}`);
  if (result.tlsVersion) lines.push(`  tls:       ${result.tlsVersion}`);
  const cert = result.certificate;
  if (cert) {
    const days = Math.floor(daysLeft(cert.notAfter, result.at));
    lines.push(
      `  cert:      ${cert.subject}  (issued by ${cert.issuer})`,
      `             names: ${cert.san.join(', ') || '(no SAN)'}`,
      `             valid until ${new Date(cert.notAfter).toISOString()} (${days >= 0 ? `${days} days left` : `expired ${-days} days ago`})`,
      `             ${cert.keyType}${cert.keyBits ? ` ${cert.keyBits}-bit` : ''}, SHA-256 ${cert.sha256}`,
    );
  }
  return lines;
}

/** The probe succeeded but clients will not: say so last, where the exit code is explained. */
function clientsFail(outcome: CheckOutcome): string[] {
  const blocking = blockingFindings(outcome);
  if (!outcome.result.ok || blocking.length === 0) return [];
  return ['', ...wrap(`DOWN for SSTP clients: the server answers, but clients will refuse the connection (${blocking.map((f) => f.code).join(', ')}; the fix is given above). Exit 1.`, '  ')];
}

function timings(result: ProbeResult): string {
  const phases = (['dns', 'connect', 'tls', 'processing'] as const)
    .filter((p) => result.phasesMs[p] !== undefined)
    .map((p) => `${p} ${result.phasesMs[p]!.toFixed(1)} ms`);
  return `${phases.join(', ')}${phases.length ? ', ' : ''}total ${result.durationMs.toFixed(1)} ms`;
}

function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

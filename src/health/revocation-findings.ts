// Pure: what the last checks of a chain's CRLs and OCSP responders mean for SSTP clients. Windows needs, for
// each certificate of the chain, one source giving a current, correctly signed answer; without one every
// client fails with 0x80092013 (CRYPT_E_REVOCATION_OFFLINE) while the HEAD probe stays green. A revoked
// certificate is refused outright. An expired CRL is critical even when OCSP still answers: it is what clients
// fall back to.
import type { RevocationKind, RevocationSource, RevocationStatus } from '../probe/revocation.js';
import type { CertificateDetails } from '../probe/types.js';
import { FindingSet, type Finding, type FindingSeverity } from './finding.js';

const HOUR_MS = 3_600_000;
/** At most this long before nextUpdate, a CRL not yet replaced by a newer one is reported. */
export const CRL_RENEWAL_WARNING_MS = 24 * HOUR_MS;

/** One revocation source of a target's chain and what its last check found (null: not checked yet). */
export interface TargetRevocation extends Omit<RevocationSource, 'der' | 'issuerDer'> {
  status: RevocationStatus | null;
}

export interface RevocationMember {
  name: string;
  chain: readonly CertificateDetails[] | null;
}

/**
 * How long before its nextUpdate a CRL should have been replaced: a CA publishes the next CRL before the
 * current one expires (AD CS: at the end of the CRL period, nextUpdate adding an overlap), so a CRL still
 * served this close to its nextUpdate was not republished. A fifth of its validity, at most a day: a 7-day
 * base CRL is reported a day ahead, a 26-hour delta CRL about 5 hours ahead.
 */
export function crlRenewalWindowMs(thisUpdate: number, nextUpdate: number): number {
  return Math.min(CRL_RENEWAL_WARNING_MS, Math.max(0, nextUpdate - thisUpdate) / 5);
}

/** Per target: a certificate of the chain is revoked (true), a current answer says none is (false), or nothing fetched yet (null). */
export function chainRevoked(revocation: readonly TargetRevocation[]): boolean | null {
  const answered = revocation.filter((r) => r.status?.reachable);
  if (answered.some((r) => r.status!.revokedSerials.includes(r.serialNumber))) return true;
  return answered.some((r) => r.position === 'leaf') ? false : null;
}

/** The problem a source has, if any, and whether it still gives clients a usable answer. */
function usable(source: TargetRevocation, now: number): boolean {
  const s = source.status;
  if (!s || !s.reachable || s.signature === 'invalid') return false;
  if (s.nextUpdate !== null && s.nextUpdate < now) return false;
  if (s.kind === 'ocsp') return s.ocspStatus !== 'unknown';
  const d = s.delta;
  return !d || (d.reachable && d.error === null && d.signature !== 'invalid' && (d.nextUpdate === null || d.nextUpdate >= now));
}

export function revocationFindings(members: readonly RevocationMember[], revocation: ReadonlyMap<string, readonly TargetRevocation[]>, now: number): Finding[] {
  const set = new FindingSet();
  for (const m of members) {
    const sources = revocation.get(m.name) ?? [];
    for (const source of sources) {
      if (!source.status) continue;
      // Windows tries another source of the same certificate when one fails: with a usable one left, a warning.
      const alternative = sources.some((s) => s.serialNumber === source.serialNumber && s.key !== source.key && usable(s, now));
      sourceFindings(set, m.name, source, source.status, alternative ? 'warning' : 'critical', now);
    }
  }
  return set.list();
}

function sourceFindings(set: FindingSet, target: string, source: TargetRevocation, s: RevocationStatus, severity: FindingSeverity, now: number): void {
  const what = `${source.kind === 'crl' ? 'CRL distribution point' : 'OCSP responder'} ${source.url} of the ${source.position} certificate ${source.subject}`;
  const consequence =
    severity === 'critical' ? 'SSTP clients that cannot check revocation fail with 0x80092013 (CRYPT_E_REVOCATION_OFFLINE).' : 'Another revocation source of that certificate still gives a usable answer.';
  if (!s.reachable) {
    set.add(`unreachable:${source.key}`, target, () => ({
      code: source.kind === 'crl' ? 'crl_unreachable' : 'ocsp_unreachable',
      severity,
      message: `The ${what} ${s.httpStatus === 200 ? 'answers, but not usably' : 'cannot be reached'} (${s.error ?? 'no answer'}). ${consequence}`,
      fix: source.kind === 'crl' || s.httpStatus !== 200
        ? `Make ${source.url} reachable from the internet over plain HTTP (firewall, DNS, web server, or the CA's publication); clients check it before every connection.`
        : `Fix the OCSP responder at ${source.url} (on AD CS: the Online Responder's revocation configuration for this CA and its signing certificate).`,
    }));
    return;
  }
  if (s.revokedSerials.includes(source.serialNumber)) {
    set.add(`revoked:${source.serialNumber}`, target, () => ({
      code: 'certificate_revoked',
      severity: 'critical',
      message:
        `The ${source.position} certificate ${source.subject} (serial ${source.serialNumber}) is revoked: ` +
        (source.kind === 'ocsp'
          ? `the OCSP responder ${source.url} answers "revoked"${s.revokedAt ? ` (since ${iso(s.revokedAt)})` : ''}.`
          : `the CRL at ${source.url}${s.delta ? ` (with its delta CRL ${s.delta.url})` : ''} lists it.`) +
        ' SSTP clients refuse it.',
      fix: source.position === 'leaf'
        ? 'Issue a new certificate and bind it on every server (and the load balancer); update offload_cert_sha256 and the SstpSvc SHA256CertificateHash where TLS is offloaded.'
        : "The CA has revoked this intermediate: get the CA's current chain and reissue the certificate under it.",
    }));
  }
  signatureFinding(set, target, source.kind, source.url, `the ${source.position} certificate ${source.subject}`, s, severity);
  if (source.kind === 'ocsp') {
    if (s.nextUpdate !== null && s.nextUpdate < now) {
      set.add(`ocsp-stale:${source.key}`, target, () => ({
        code: 'ocsp_response_expired',
        severity,
        message: `The ${what} answers with a status whose nextUpdate (${iso(s.nextUpdate!)}) has passed: clients reject it. ${consequence}`,
        fix: `The responder serves an old answer: check that it gets current CRLs from the CA (AD CS Online Responder: the revocation configuration's refresh).`,
      }));
    } else if (s.ocspStatus === 'unknown') {
      set.add(`ocsp-unknown:${source.key}`, target, () => ({
        code: 'ocsp_unknown',
        severity,
        message: `The ${what} answers "unknown": it does not know the certificate (serial ${source.serialNumber}). ${consequence}`,
        fix: `Configure the responder for the CA that issued this certificate (AD CS Online Responder: a revocation configuration for that CA certificate).`,
      }));
    }
    return;
  }
  crlDateFindings(set, target, source.url, s.thisUpdate, s.nextUpdate, now);
  const d = s.delta;
  if (!d) return;
  if (!d.reachable || d.error !== null) {
    set.add(`delta:${d.url}`, target, () => ({
      code: 'delta_crl_unreachable',
      severity,
      message:
        `The CRL at ${source.url} names a delta CRL at ${d.url}, which ${d.reachable ? 'cannot be used' : 'cannot be reached'} (${d.error ?? 'no answer'}). ` +
        `Windows fetches the delta CRL too (AD CS enterprise CAs publish one); without it revocation checking fails. ${consequence}`,
      fix: `Publish the delta CRL to ${d.url} (certutil -CRL on the CA publishes both) and check the CA's delta CRL publication schedule and CDP settings.`,
    }));
    return;
  }
  signatureFinding(set, target, 'crl', d.url, `the delta CRL of ${source.url}`, d, severity);
  crlDateFindings(set, target, d.url, d.thisUpdate, d.nextUpdate, now);
}

function signatureFinding(
  set: FindingSet,
  target: string,
  kind: RevocationKind,
  url: string,
  about: string,
  s: Pick<RevocationStatus, 'signature' | 'signatureProblem'>,
  severity: FindingSeverity,
): void {
  if (s.signature === 'invalid') {
    set.add(`signature:${url}`, target, () => ({
      code: kind === 'crl' ? 'crl_signature_invalid' : 'ocsp_signature_invalid',
      severity,
      message: `The ${kind === 'crl' ? 'CRL' : 'OCSP answer'} at ${url} for ${about} is not correctly signed: ${s.signatureProblem ?? 'the signature does not verify'}. Clients discard it, as if the source did not answer.`,
      fix: kind === 'crl'
        ? `Publish the CRL the issuing CA signs to ${url} (a stale copy from an old CA key, or another CA's CRL, is the usual cause).`
        : `Give the OCSP responder a signing certificate issued by the same CA, with the OCSP Signing EKU, and current.`,
    }));
  } else if (s.signature === 'unverified') {
    set.add(`unverified:${url}`, target, () => ({
      code: 'revocation_unverified',
      severity: 'warning',
      message: `The signature of the ${kind === 'crl' ? 'CRL' : 'OCSP answer'} at ${url} for ${about} was not checked: ${s.signatureProblem ?? 'unknown reason'}.`,
      fix: 'Make the server send its whole chain (the issuing CA certificate), or give sstpwatch the CA in tls.ca_file.',
    }));
  }
}

function crlDateFindings(set: FindingSet, target: string, url: string, thisUpdate: number | null, nextUpdate: number | null, now: number): void {
  if (nextUpdate === null) return;
  if (nextUpdate < now) {
    set.add(`stale:${url}`, target, () => ({
      code: 'crl_expired',
      severity: 'critical',
      message: `The CRL at ${url} was due for renewal on ${iso(nextUpdate)} and has not been republished. Clients treat an expired CRL as no CRL: 0x80092013 (CRYPT_E_REVOCATION_OFFLINE).`,
      fix: `Publish a fresh CRL from the CA to ${url} (certutil -CRL on a Windows CA), and check the CA's publication schedule.`,
    }));
  } else if (thisUpdate !== null && nextUpdate - now < crlRenewalWindowMs(thisUpdate, nextUpdate)) {
    set.add(`renewal:${url}`, target, () => ({
      code: 'crl_expires_soon',
      severity: 'warning',
      message: `The CRL at ${url} expires on ${iso(nextUpdate)} (in ${hours(nextUpdate - now)}) and no newer one has been published yet. When it expires every SSTP client fails with 0x80092013.`,
      fix: `Check that the CA publishes its CRL on schedule (AD CS: certutil -CRL, the CA's CRL publication interval, and that the CA service is running and can write to ${url}).`,
    }));
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const hours = (ms: number): string => (ms >= 2 * HOUR_MS ? `${Math.floor(ms / HOUR_MS)} hours` : `${Math.max(1, Math.round(ms / 60_000))} minutes`);

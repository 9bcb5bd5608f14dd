// Pure: what a group's certificates say, in findings an admin can act on. The checks an SSTP client makes on
// each target's chain (EKU, name, trust, expiry, revocation), and the ones only a view of the whole group can
// make: every server presents the same leaf; the load balancer presents it too (TLS re-encryption); with TLS
// offload, the load balancer's certificate hash is the one configured on the RRAS servers.
import { certLevel, formatDays } from '../config/policy.js';
import type { CertificateThresholds, GroupConfig, TargetRole } from '../config/types.js';
import { describeChainError, ekuName } from '../probe/chain.js';
import { revocationSources, type RevocationStatus } from '../probe/revocation.js';
import type { CertificateDetails, CertificatePosition, ChainChecks } from '../probe/types.js';
import { FindingSet, type Finding } from './finding.js';
import { revocationFindings, type TargetRevocation } from './revocation-findings.js';

const DAY_MS = 86_400_000;

export const SSTPSVC_PARAMETERS = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\SstpSvc\\Parameters';

/**
 * How to give offloaded RRAS servers the load balancer's certificate hash. Enable-SstpOffload is a cmdlet of
 * Richard Hicks' AOVPNTools PowerShell module (Install-Module AOVPNTools), not of Windows; what it sets is
 * named too, for admins who set the registry themselves.
 */
export function offloadInstruction(sha256: string): string {
  return (
    `run Enable-SstpOffload -CertificateHash ${sha256} -Restart (a cmdlet of Richard Hicks' AOVPNTools PowerShell module: Install-Module AOVPNTools), ` +
    `or set under ${SSTPSVC_PARAMETERS} UseHttps = 0 (DWORD), isHashConfiguredByAdmin = 1 (DWORD) and SHA256CertificateHash = ${sha256} (REG_BINARY, 32 bytes), ` +
    'then restart the Remote Access service'
  );
}

export { FINDING_CODES, type Finding, type FindingCode, type FindingSeverity } from './finding.js';
export { chainRevoked, type TargetRevocation } from './revocation-findings.js';

/** One target of the group as its latest probe saw it. */
export interface CertificateMember {
  name: string;
  role: TargetRole;
  offload: boolean;
  /** The chain of the latest probe; null when it had none (plain HTTP, or no TLS handshake). */
  chain: CertificateDetails[] | null;
  checks: ChainChecks | null;
  /** The target's `certificates` thresholds: how close to expiry a certificate of its chain is a warning, or critical. */
  thresholds: CertificateThresholds;
}

/** null: nothing to compare (too few certificates seen, or the check does not apply). */
export interface GroupConsistency {
  servers: boolean | null;
  vip: boolean | null;
  offloadHash: boolean | null;
}

export interface GroupCertificateReport {
  consistent: GroupConsistency;
  findings: Finding[];
}

/** What a target's latest probe showed of its certificates: the chain (null without one) and the checks on it. */
export interface CertificateSighting {
  chain: readonly CertificateDetails[] | null;
  checks: ChainChecks | null;
}

/**
 * Whether two sightings of a target differ in anything its group's findings and its series are made of: the
 * chain's certificates (by SHA-256, in order), its presence, and the SSTP checks on it. Equal sightings leave the
 * group as it was, so most results need no group evaluation at all.
 */
export function certificateViewChanged(before: CertificateSighting, after: CertificateSighting): boolean {
  const a = before.chain;
  const b = after.chain;
  if (a === null || b === null) return a !== b || !sameChecks(before.checks, after.checks);
  if (a.length !== b.length || a.some((cert, i) => cert.sha256 !== b[i]!.sha256)) return true;
  return !sameChecks(before.checks, after.checks);
}

function sameChecks(a: ChainChecks | null, b: ChainChecks | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.serverAuthEku === b.serverAuthEku &&
    a.nameMatchesHostname === b.nameMatchesHostname &&
    a.chainTrusted === b.chainTrusted &&
    a.chainError === b.chainError &&
    a.earliestExpiry.sha256 === b.earliestExpiry.sha256 &&
    a.earliestExpiry.position === b.earliestExpiry.position &&
    a.earliestExpiry.notAfter === b.earliestExpiry.notAfter
  );
}

/** The revocation sources of a chain joined with the statuses checked so far (looked up by source key). */
export function targetRevocation(chain: readonly CertificateDetails[], statusOf: (key: string) => RevocationStatus | undefined): TargetRevocation[] {
  return revocationSources(chain).map(({ der: _der, issuerDer: _issuer, ...source }) => ({ ...source, status: statusOf(source.key) ?? null }));
}

export function groupCertificateReport(
  group: Pick<GroupConfig, 'name' | 'hostname' | 'offloadCertSha256'>,
  members: readonly CertificateMember[],
  revocation: ReadonlyMap<string, readonly TargetRevocation[]>,
  now: number,
): GroupCertificateReport {
  const findings: Finding[] = [];
  const consistent: GroupConsistency = { servers: null, vip: null, offloadHash: null };
  const withLeaf = members.filter((m) => m.chain && m.chain.length > 0);
  const servers = withLeaf.filter((m) => m.role === 'server' && !m.offload);
  const vip = withLeaf.find((m) => m.role === 'vip' && !m.offload);
  const leafOf = (m: CertificateMember) => m.chain![0]!;

  // Every server the same leaf; the expected one is the newest issued (a renewal rolling out).
  const expected = newest(servers.map(leafOf));
  if (servers.length >= 2 && expected) {
    const lagging = servers.filter((m) => leafOf(m).sha256 !== expected.sha256);
    consistent.servers = lagging.length === 0;
    if (lagging.length > 0) {
      findings.push({
        code: 'servers_certificate_mismatch',
        severity: 'critical',
        targets: lagging.map((m) => m.name),
        message:
          `Not every RRAS server of ${group.name} presents the same certificate: ` +
          `${servers.filter((m) => !lagging.includes(m)).map((m) => m.name).join(', ')} present ${describeCert(expected)}, ` +
          lagging.map((m) => `${m.name} presents ${describeCert(leafOf(m))}`).join('; ') +
          '. Clients reaching a server with an old or wrong certificate fail while the others work.',
        fix: `Bind the new certificate (SHA-256 ${expected.sha256}) on ${names(lagging)}: RRAS console > server Properties > Security > Certificate, or Set-RemoteAccess -SslCertificate, then restart the Remote Access service.`,
      });
    }
  }

  // TLS re-encryption: the load balancer and the servers present the same certificate.
  if (vip && expected) {
    const vipLeaf = leafOf(vip);
    consistent.vip = vipLeaf.sha256 === expected.sha256;
    if (!consistent.vip) {
      const vipNewer = vipLeaf.notBefore > expected.notBefore;
      findings.push({
        code: 'vip_certificate_mismatch',
        severity: 'critical',
        targets: [vip.name, ...servers.map((m) => m.name)],
        message:
          `The load balancer (${vip.name}) presents ${describeCert(vipLeaf)} while the RRAS servers present ${describeCert(expected)}. ` +
          'With TLS re-encryption the same certificate must be on the load balancer and on every server; SSTP does not support different ones.',
        fix: vipNewer
          ? `Bind the load balancer's certificate (SHA-256 ${vipLeaf.sha256}) on ${names(servers)}.`
          : `Install the servers' certificate (SHA-256 ${expected.sha256}) on the load balancer's virtual service for ${group.hostname}.`,
      });
    }
  }

  // TLS offload: RRAS must know the hash of the certificate clients see, the load balancer's.
  const offloaded = members.filter((m) => m.role === 'server' && m.offload);
  const configured = group.offloadCertSha256 ?? null;
  if (offloaded.length > 0 || configured !== null) {
    if (!vip) {
      if (configured !== null || offloaded.length > 0) {
        findings.push({
          code: 'offload_hash_unverifiable',
          severity: 'warning',
          targets: offloaded.map((m) => m.name),
          message:
            `${offloaded.length > 0 ? `${names(offloaded)} ${offloaded.length === 1 ? 'is' : 'are'} behind TLS offload, but` : 'offload_cert_sha256 is set, but'} ` +
            'no certificate has been seen from an HTTPS VIP of this group, so the hash RRAS checks against cannot be compared.',
          fix: `Add the load balancer's HTTPS virtual service as the group's vip (vip: https://${group.hostname}).`,
        });
      }
    } else {
      const vipLeaf = leafOf(vip);
      if (configured === null) {
        findings.push({
          code: 'offload_hash_not_configured',
          severity: 'warning',
          targets: offloaded.map((m) => m.name),
          message:
            `${names(offloaded)} ${offloaded.length === 1 ? 'is' : 'are'} behind TLS offload: RRAS accepts clients only when its SHA256CertificateHash ` +
            `equals the load balancer's certificate, which is ${vipLeaf.sha256}. The group does not say which hash the servers were given, so this is not checked.`,
          fix: `Check SHA256CertificateHash on each offloaded server (Get-ItemProperty ${SSTPSVC_PARAMETERS}), then set offload_cert_sha256: "${vipLeaf.sha256}" on group ${group.name}.`,
        });
      } else {
        consistent.offloadHash = vipLeaf.sha256 === configured;
        if (!consistent.offloadHash) {
          findings.push({
            code: 'offload_hash_mismatch',
            severity: 'critical',
            targets: [vip.name, ...offloaded.map((m) => m.name)],
            message:
              `The load balancer (${vip.name}) presents ${describeCert(vipLeaf)}, but the hash configured for the offloaded RRAS servers is ${configured}. ` +
              'Clients connect and are then dropped by RRAS (client event RasSstp 6, security check failure): their crypto binding carries the hash they saw.',
            fix: `On ${offloaded.length > 0 ? names(offloaded) : 'every offloaded RRAS server'}: ${offloadInstruction(vipLeaf.sha256)}. Then set offload_cert_sha256: "${vipLeaf.sha256}" on group ${group.name}.`,
          });
        }
      }
    }
  }

  findings.push(...chainFindings(group.hostname, withLeaf, now));
  findings.push(...revocationFindings(withLeaf, revocation, now));
  return { consistent, findings };
}

/** EKU, name, trust and expiry: one finding per problem and certificate, naming every target presenting it. */
function chainFindings(hostname: string, members: readonly CertificateMember[], now: number): Finding[] {
  const set = new FindingSet();
  const add = set.add.bind(set);
  for (const m of members) {
    const leaf = m.chain![0]!;
    const checks = m.checks;
    if (!checks) continue;
    if (!checks.serverAuthEku && m.role === 'vip' && leaf.ekus === null) {
      // Verified behaviour (SSTP-NOTES): a certificate without any EKU extension is valid for every purpose to a
      // Windows client; only RRAS's own certificate must name Server Authentication or Any Purpose.
      add(`eku-vip:${leaf.sha256}`, m.name, () => ({
        code: 'no_server_auth_eku',
        severity: 'warning',
        message:
          `The load balancer's certificate ${describeCert(leaf)} has no EKU extension at all. Windows SSTP clients accept it where the load balancer ` +
          'terminates TLS (no EKU means any purpose), but RRAS refuses such a certificate for its own binding (RasSstp event 13): ' +
          'it must not be used on the RRAS servers, and a re-encrypting load balancer needs the servers to present a certificate with the Server Authentication EKU.',
        fix: 'Nothing is required while the load balancer offloads TLS; at the next renewal, issue it from a template with the Server Authentication EKU.',
      }));
    } else if (!checks.serverAuthEku) {
      add(`eku:${leaf.sha256}`, m.name, () => ({
        code: 'no_server_auth_eku',
        severity: 'critical',
        message: `The certificate ${describeCert(leaf)} has no Server Authentication EKU (1.3.6.1.5.5.7.3.1)${leaf.ekus === null ? ' (it has no EKU extension at all)' : `; its EKUs are ${leaf.ekus.map(ekuName).join(', ')}`}. SSTP clients refuse it.`,
        fix: 'Issue a certificate from a template with the Server Authentication EKU and bind it for SSTP.',
      }));
    }
    if (!checks.nameMatchesHostname) {
      add(`name:${leaf.sha256}`, m.name, () => ({
        code: 'name_mismatch',
        severity: 'critical',
        message: `The certificate ${describeCert(leaf)} does not name ${hostname} (it names ${leaf.san.join(', ') || leaf.commonName || 'nothing'}). SSTP clients connecting to ${hostname} refuse it.`,
        fix: `Issue a certificate whose subject alternative names include ${hostname} (a wildcard for its parent domain also works) and bind it for SSTP.`,
      }));
    }
    if (!checks.chainTrusted) {
      add(`chain:${leaf.sha256}:${checks.chainError}`, m.name, () => ({
        code: 'chain_untrusted',
        severity: 'critical',
        message: `The chain of ${describeCert(leaf)}: ${describeChainError(checks.chainError ?? 'CERT_UNTRUSTED')}.`,
        fix:
          checks.chainError === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
            ? "Install the issuing CA's certificate in the server's Intermediate Certification Authorities store (or in the load balancer's chain) so it is sent with the certificate."
            : 'Use a certificate from a CA the clients trust; if clients do trust this private CA, give sstpwatch its root in tls.ca_file.',
      }));
    }
    m.chain!.forEach((cert, i) => {
      const position = i === 0 ? 'leaf' : i === m.chain!.length - 1 && cert.selfIssued ? 'root' : 'intermediate';
      const days = Math.floor((cert.notAfter - now) / DAY_MS);
      const level = certLevel(cert.notAfter, now, m.thresholds);
      if (level === 'expired') {
        add(`expired:${cert.sha256}`, m.name, () => ({
          code: 'certificate_expired',
          severity: 'critical',
          message: `The ${position} certificate ${describeCert(cert)} expired on ${iso(cert.notAfter)}. SSTP clients fail with 0x800B0101 (CERT_E_EXPIRED).`,
          fix: renewFix(position),
        }));
      } else if (level !== 'ok') {
        const limit = level === 'critical' ? m.thresholds.criticalDays : m.thresholds.warnDays;
        add(`soon:${cert.sha256}:${level}`, m.name, () => ({
          code: 'certificate_expires_soon',
          severity: level,
          message: `The ${position} certificate ${describeCert(cert)} expires on ${iso(cert.notAfter)} (${days} days left; ${level} below ${formatDays(limit)}).`,
          fix: renewFix(position),
        }));
      }
    });
  }
  return set.list();
}

function renewFix(position: CertificatePosition): string {
  if (position === 'leaf') return 'Renew the certificate, bind the new one on every server (and the load balancer), and update offload_cert_sha256 where TLS is offloaded.';
  return `Get the CA's current ${position} certificate and install it on the servers and the load balancer in place of the old one (renew the leaf if the CA requires it).`;
}

/** The most recently issued certificate (ties: the first), as the one a renewal rolls out. */
/** The latest issued; of two issued the same second (a script issuing both), the one valid longer. */
function newest(certs: readonly CertificateDetails[]): CertificateDetails | undefined {
  let best: CertificateDetails | undefined;
  for (const cert of certs) {
    if (!best || cert.notBefore > best.notBefore || (cert.notBefore === best.notBefore && cert.notAfter > best.notAfter)) best = cert;
  }
  return best;
}

function describeCert(cert: CertificateDetails): string {
  return `${cert.subject} (SHA-256 ${cert.sha256.slice(0, 16)}..., valid until ${iso(cert.notAfter).slice(0, 10)})`;
}

function names(members: readonly { name: string }[]): string {
  return members.map((m) => m.name).join(', ');
}

const iso = (ms: number): string => new Date(ms).toISOString();

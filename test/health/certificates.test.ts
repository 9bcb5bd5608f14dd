import { describe, expect, it } from 'vitest';
import {
  certificateViewChanged,
  groupCertificateReport,
  chainRevoked,
  offloadInstruction,
  targetRevocation,
  type CertificateMember,
  type FindingCode,
  type TargetRevocation,
} from '../../src/health/certificates.js';
import { DEFAULT_CERTIFICATE_THRESHOLDS } from '../../src/config/policy.js';
import { SERVER_AUTH_OID } from '../../src/probe/chain.js';
import type { RevocationStatus } from '../../src/probe/revocation.js';
import type { CertificateDetails, ChainChecks } from '../../src/probe/types.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = 1_000 * DAY;
const HOST = 'vpn.contoso.com';

function leaf(sha256: string, overrides: Partial<CertificateDetails> = {}): CertificateDetails {
  return {
    subject: `CN=${HOST}`,
    issuer: 'CN=Issuing CA',
    san: [HOST],
    notBefore: NOW - 10 * DAY,
    notAfter: NOW + 300 * DAY,
    sha256: sha256.repeat(64 / sha256.length),
    keyType: 'EC',
    keyBits: 256,
    commonName: HOST,
    serialNumber: sha256,
    ekus: [SERVER_AUTH_OID],
    isCa: false,
    selfIssued: false,
    crlUrls: ['http://pki.contoso.com/issuing.crl'],
    ocspUrls: [],
    caIssuerUrls: [],
    der: Buffer.alloc(0),
    ...overrides,
  };
}

const OLD = leaf('A', { notBefore: NOW - 300 * DAY, notAfter: NOW + 60 * DAY });
const NEW = leaf('B');
const LB = leaf('C', { notBefore: NOW - 5 * DAY });

const goodChecks = (cert: CertificateDetails): ChainChecks => ({
  serverAuthEku: true,
  nameMatchesHostname: true,
  chainTrusted: true,
  chainError: null,
  earliestExpiry: { notAfter: cert.notAfter, position: 'leaf', subject: cert.subject, sha256: cert.sha256 },
});

function server(name: string, cert: CertificateDetails | null, checks: Partial<ChainChecks> = {}): CertificateMember {
  return { name, role: 'server', offload: false, chain: cert ? [cert] : null, checks: cert ? { ...goodChecks(cert), ...checks } : null, thresholds: DEFAULT_CERTIFICATE_THRESHOLDS };
}
const offloaded = (name: string): CertificateMember => ({ name, role: 'server', offload: true, chain: null, checks: null, thresholds: DEFAULT_CERTIFICATE_THRESHOLDS });
const vip = (cert: CertificateDetails | null): CertificateMember => ({ ...server('vpn-eu-vip', cert), role: 'vip' });

const group = (offloadCertSha256: string | null = null) => ({ name: 'vpn-eu', hostname: HOST, offloadCertSha256 });

function report(members: CertificateMember[], offloadHash: string | null = null, revocation = new Map<string, TargetRevocation[]>()) {
  return groupCertificateReport(group(offloadHash), members, revocation, NOW);
}

const codes = (r: ReturnType<typeof report>): FindingCode[] => r.findings.map((f) => f.code);

describe('a target sighting changes its group only when what it presents changes', () => {
  const INTERMEDIATE = leaf('D', { isCa: true, subject: 'CN=Issuing CA' });
  const seen = (chain: CertificateDetails[] | null, checks: Partial<ChainChecks> = {}) => ({ chain, checks: chain ? { ...goodChecks(chain[0]!), ...checks } : null });
  it.each<[string, ReturnType<typeof seen>, ReturnType<typeof seen>, boolean]>([
    ['the same chain, a new array of the same certificates', seen([NEW, INTERMEDIATE]), seen([leaf('B'), leaf('D', { isCa: true })]), false],
    ['no chain before and none now (still down)', seen(null), seen(null), false],
    ['a first chain after none', seen(null), seen([NEW]), true],
    ['no chain after one (went down)', seen([NEW]), seen(null), true],
    ['a renewed leaf', seen([OLD, INTERMEDIATE]), seen([NEW, INTERMEDIATE]), true],
    ['the intermediate sent no more', seen([NEW, INTERMEDIATE]), seen([NEW]), true],
    ['the chain no longer trusted', seen([NEW]), seen([NEW], { chainTrusted: false, chainError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }), true],
    ['the name no longer matches', seen([NEW]), seen([NEW], { nameMatchesHostname: false }), true],
    ['the same checks on the same chain', seen([NEW], { serverAuthEku: false }), seen([NEW], { serverAuthEku: false }), false],
  ])('%s -> changed %s', (_, before, after, changed) => {
    expect(certificateViewChanged(before, after)).toBe(changed);
  });
});

describe('group certificate consistency', () => {
  it.each<[string, CertificateMember[], string | null, { servers: boolean | null; vip: boolean | null; offloadHash: boolean | null }, FindingCode[]]>([
    ['all servers present the same leaf', [server('rras-1', NEW), server('rras-2', NEW)], null, { servers: true, vip: null, offloadHash: null }, []],
    ['one server still presents the old leaf', [server('rras-1', NEW), server('rras-2', OLD)], null, { servers: false, vip: null, offloadHash: null }, ['servers_certificate_mismatch']],
    ['a single server has nothing to compare', [server('rras-1', NEW)], null, { servers: null, vip: null, offloadHash: null }, []],
    ['a server without a certificate (down) is left out', [server('rras-1', NEW), server('rras-2', null)], null, { servers: null, vip: null, offloadHash: null }, []],
    ['the VIP presents the servers\' leaf (re-encryption)', [server('rras-1', NEW), server('rras-2', NEW), vip(NEW)], null, { servers: true, vip: true, offloadHash: null }, []],
    ['the VIP presents another leaf', [server('rras-1', NEW), server('rras-2', NEW), vip(LB)], null, { servers: true, vip: false, offloadHash: null }, ['vip_certificate_mismatch']],
    ['offload: the VIP leaf is the configured hash', [offloaded('rras-1'), offloaded('rras-2'), vip(LB)], LB.sha256, { servers: null, vip: null, offloadHash: true }, []],
    ['offload: the VIP leaf is not the configured hash', [offloaded('rras-1'), offloaded('rras-2'), vip(LB)], NEW.sha256, { servers: null, vip: null, offloadHash: false }, ['offload_hash_mismatch']],
    ['offload without a configured hash', [offloaded('rras-1'), vip(LB)], null, { servers: null, vip: null, offloadHash: null }, ['offload_hash_not_configured']],
    ['offload without an HTTPS VIP', [offloaded('rras-1')], LB.sha256, { servers: null, vip: null, offloadHash: null }, ['offload_hash_unverifiable']],
  ])('%s', (_what, members, hash, consistent, expected) => {
    const r = report(members, hash);
    expect(r.consistent).toEqual(consistent);
    expect(codes(r)).toEqual(expected);
  });

  it('asks to bind the newest certificate on the lagging server, by name', () => {
    const [finding] = report([server('rras-eu-1', NEW), server('rras-eu-2', OLD), server('rras-eu-3', NEW)]).findings;
    expect(finding).toMatchObject({ code: 'servers_certificate_mismatch', severity: 'critical', targets: ['rras-eu-2'] });
    expect(finding!.fix).toBe(
      `Bind the new certificate (SHA-256 ${NEW.sha256}) on rras-eu-2: RRAS console > server Properties > Security > Certificate, or Set-RemoteAccess -SslCertificate, then restart the Remote Access service.`,
    );
    expect(finding!.message).toContain('rras-eu-1, rras-eu-3 present');
  });

  it('asks to run Enable-SstpOffload (AOVPNTools) or set the registry values with the load balancer\'s hash on the offloaded servers', () => {
    const [finding] = report([offloaded('rras-eu-1'), offloaded('rras-eu-2'), vip(LB)], NEW.sha256).findings;
    expect(finding!.targets).toEqual(['vpn-eu-vip', 'rras-eu-1', 'rras-eu-2']);
    expect(finding!.fix).toBe(
      `On rras-eu-1, rras-eu-2: ${offloadInstruction(LB.sha256)}. Then set offload_cert_sha256: "${LB.sha256}" on group vpn-eu.`,
    );
    expect(finding!.message).toMatch(/RasSstp 6/);
  });

  it('takes of two certificates issued the same second the one valid longer as the renewal, in either order', () => {
    const shorter = leaf('E', { notBefore: NEW.notBefore, notAfter: NEW.notAfter - 200 * DAY });
    for (const members of [
      [server('rras-1', shorter), server('rras-2', NEW), server('rras-3', NEW)],
      [server('rras-2', NEW), server('rras-3', NEW), server('rras-1', shorter)],
    ]) {
      expect(report(members).findings).toMatchObject([{ code: 'servers_certificate_mismatch', targets: ['rras-1'] }]);
    }
  });

  it('tells which side to change when the VIP differs: the newer certificate wins', () => {
    const lbNewer = report([server('rras-1', OLD), vip(NEW)]).findings[0]!;
    expect(lbNewer.fix).toMatch(/^Bind the load balancer's certificate .* on rras-1\.$/);
    const lbOlder = report([server('rras-1', NEW), vip(OLD)]).findings[0]!;
    expect(lbOlder.fix).toMatch(/^Install the servers' certificate .* on the load balancer's virtual service for vpn\.contoso\.com\.$/);
  });
});

describe('chain findings', () => {
  const intermediate = leaf('D', { subject: 'CN=Issuing CA', isCa: true, ekus: null, notAfter: NOW + 12 * DAY });
  it.each<[string, CertificateMember[], FindingCode[]]>([
    ['a good certificate', [server('rras-1', NEW)], []],
    ['no Server Authentication EKU', [server('rras-1', leaf('E', { ekus: null }), { serverAuthEku: false })], ['no_server_auth_eku']],
    ['the wrong name', [server('rras-1', NEW, { nameMatchesHostname: false })], ['name_mismatch']],
    ['an untrusted chain', [server('rras-1', NEW, { chainTrusted: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })], ['chain_untrusted']],
    ['an expired leaf', [server('rras-1', leaf('F', { notAfter: NOW - DAY }))], ['certificate_expired']],
    ['a leaf expiring in 10 days', [server('rras-1', leaf('F', { notAfter: NOW + 10 * DAY }))], ['certificate_expires_soon']],
    ['an intermediate expiring in 12 days', [{ ...server('rras-1', NEW), chain: [NEW, intermediate] }], ['certificate_expires_soon']],
  ])('%s', (_what, members, expected) => {
    expect(codes(report(members))).toEqual(expected);
  });

  it('names the intermediate, not the leaf, when the intermediate is dying', () => {
    const [finding] = report([{ ...server('rras-1', NEW), chain: [NEW, intermediate] }]).findings;
    expect(finding!.message).toMatch(/^The intermediate certificate CN=Issuing CA .* \(12 days left; warning below 21 days\)\.$/);
  });

  it.each<[string, { warnDays: number; criticalDays: number }, number, 'warning' | 'critical' | null]>([
    ['21/7 days (the defaults), 22 days left', { warnDays: 21, criticalDays: 7 }, 22, null],
    ['21/7 days, 20 days left', { warnDays: 21, criticalDays: 7 }, 20, 'warning'],
    ['21/7 days, 6 days left', { warnDays: 21, criticalDays: 7 }, 6, 'critical'],
    ['45/14 days, 30 days left', { warnDays: 45, criticalDays: 14 }, 30, 'warning'],
    ['45/14 days, 13 days left', { warnDays: 45, criticalDays: 14 }, 13, 'critical'],
    ['10/3 days, 20 days left', { warnDays: 10, criticalDays: 3 }, 20, null],
  ])("follows the target's certificates thresholds: %s", (_what, thresholds, daysLeft, severity) => {
    const member = { ...server('rras-1', leaf('F', { notAfter: NOW + daysLeft * DAY + 3_600_000 })), thresholds };
    const findings = report([member]).findings;
    if (severity === null) expect(findings).toEqual([]);
    else expect(findings).toMatchObject([{ code: 'certificate_expires_soon', severity }]);
  });

  it('makes a load balancer certificate without any EKU extension a warning, explaining why clients accept it and RRAS would not', () => {
    const noEku = leaf('E', { ekus: null });
    const [finding] = report([vip(noEku), offloaded('rras-1')].map((m) => (m.role === 'vip' ? { ...m, checks: { ...m.checks!, serverAuthEku: false } } : m)), noEku.sha256).findings;
    expect(finding).toMatchObject({ code: 'no_server_auth_eku', severity: 'warning', targets: ['vpn-eu-vip'] });
    expect(finding!.message).toMatch(/no EKU extension at all.*Windows SSTP clients accept it where the load balancer terminates TLS.*RasSstp event 13/);
  });

  it('keeps a load balancer certificate with EKUs but not Server Authentication critical', () => {
    const clientOnly = leaf('E', { ekus: ['1.3.6.1.5.5.7.3.2'] });
    const r = report([{ ...vip(clientOnly), checks: { ...goodChecks(clientOnly), serverAuthEku: false } }]);
    expect(r.findings.map((f) => `${f.severity} ${f.code}`)).toEqual(['critical no_server_auth_eku']);
  });

  it('reports one finding for a certificate shared by several targets', () => {
    const bad = leaf('E', { ekus: ['1.3.6.1.5.5.7.3.2'] });
    const r = report([server('rras-1', bad, { serverAuthEku: false }), server('rras-2', bad, { serverAuthEku: false })]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'no_server_auth_eku', targets: ['rras-1', 'rras-2'] });
  });
});

describe('revocation findings', () => {
  const CRL = 'http://pki.contoso.com/issuing.crl';
  const OCSP = 'http://ocsp.contoso.com';
  const status = (overrides: Partial<RevocationStatus>): RevocationStatus => ({
    url: CRL,
    kind: 'crl',
    checkedAt: NOW,
    reachable: true,
    error: null,
    httpStatus: 200,
    thisUpdate: NOW - DAY,
    nextUpdate: NOW + 6 * DAY,
    revokedSerials: [],
    signature: 'valid',
    signatureProblem: null,
    delta: null,
    ocspStatus: overrides.kind === 'ocsp' ? 'good' : null,
    revokedAt: null,
    ...overrides,
  });
  const delta = (overrides: Partial<NonNullable<RevocationStatus['delta']>>) => ({
    url: 'http://pki.contoso.com/issuing+.crl', reachable: true, error: null, httpStatus: 200, signature: 'valid' as const, signatureProblem: null, thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY, ...overrides,
  });
  const withOcsp = leaf('B', { ocspUrls: [OCSP] });

  function revocationOf(cert: CertificateDetails, statuses: Record<string, RevocationStatus>): Map<string, TargetRevocation[]> {
    // An OCSP source is keyed by URL and serial number; these tables name it by its URL.
    return new Map([['rras-1', targetRevocation([cert], (key) => statuses[key.split('#')[0]!])]]);
  }

  it.each<[string, CertificateDetails, Record<string, RevocationStatus>, FindingCode[], string[]]>([
    ['a reachable, current CRL not listing the leaf', NEW, { [CRL]: status({}) }, [], []],
    ['an unreachable CRL, the only source', NEW, { [CRL]: status({ reachable: false, error: 'connection refused', httpStatus: null }) }, ['crl_unreachable'], ['critical']],
    ['an unreachable CRL with a reachable OCSP responder', withOcsp, { [CRL]: status({ reachable: false, error: 'HTTP 404 instead of the CRL' }), [OCSP]: status({ url: OCSP, kind: 'ocsp' }) }, ['crl_unreachable'], ['warning']],
    ['an unreachable OCSP responder, the CRL reachable', withOcsp, { [CRL]: status({}), [OCSP]: status({ url: OCSP, kind: 'ocsp', reachable: false, error: 'no answer within 5000 ms' }) }, ['ocsp_unreachable'], ['warning']],
    ['an expired CRL', NEW, { [CRL]: status({ nextUpdate: NOW - 60_000 }) }, ['crl_expired'], ['critical']],
    ['a CRL listing the leaf', NEW, { [CRL]: status({ revokedSerials: ['B'] }) }, ['certificate_revoked'], ['critical']],
    ['an OCSP responder answering revoked', withOcsp, { [CRL]: status({}), [OCSP]: status({ url: OCSP, kind: 'ocsp', ocspStatus: 'revoked', revokedSerials: ['B'] }) }, ['certificate_revoked'], ['critical']],
    ['an OCSP responder answering unknown, the CRL usable', withOcsp, { [CRL]: status({}), [OCSP]: status({ url: OCSP, kind: 'ocsp', ocspStatus: 'unknown' }) }, ['ocsp_unknown'], ['warning']],
    ['an OCSP answer past its nextUpdate', withOcsp, { [CRL]: status({}), [OCSP]: status({ url: OCSP, kind: 'ocsp', nextUpdate: NOW - 1 }) }, ['ocsp_response_expired'], ['warning']],
    ['a CRL not signed by the issuing CA, the only source', NEW, { [CRL]: status({ signature: 'invalid', signatureProblem: 'the signature does not verify' }) }, ['crl_signature_invalid'], ['critical']],
    ['a CRL whose signature could not be checked', NEW, { [CRL]: status({ signature: 'unverified', signatureProblem: 'the issuing CA certificate is not in the presented chain' }) }, ['revocation_unverified'], ['warning']],
    ['a CRL in the last fifth of its validity', NEW, { [CRL]: status({ thisUpdate: NOW - 6 * DAY, nextUpdate: NOW + 12 * HOUR }) }, ['crl_expires_soon'], ['warning']],
    ['a CRL with a day left of seven', NEW, { [CRL]: status({ thisUpdate: NOW - 6 * DAY, nextUpdate: NOW + 25 * HOUR }) }, [], []],
    ['a delta CRL not published', NEW, { [CRL]: status({ delta: delta({ reachable: false, error: 'HTTP 404 instead of the CRL', httpStatus: 404 }) }) }, ['delta_crl_unreachable'], ['critical']],
    ['an expired delta CRL', NEW, { [CRL]: status({ delta: delta({ thisUpdate: NOW - 2 * DAY, nextUpdate: NOW - HOUR }) }) }, ['crl_expired'], ['critical']],
    ['a delta CRL not published, OCSP usable', { ...withOcsp }, { [CRL]: status({ delta: delta({ reachable: false, error: 'connection refused' }) }), [OCSP]: status({ url: OCSP, kind: 'ocsp' }) }, ['delta_crl_unreachable'], ['warning']],
    ['not fetched yet', NEW, {}, [], []],
  ])('%s', (_what, cert, statuses, expected, severities) => {
    const r = report([server('rras-1', cert)], null, revocationOf(cert, statuses));
    expect(codes(r)).toEqual(expected);
    expect(r.findings.map((f) => f.severity)).toEqual(severities);
  });

  it.each<[string, Record<string, RevocationStatus>, boolean | null]>([
    ['listed', { [CRL]: status({ revokedSerials: ['B'] }) }, true],
    ['not listed', { [CRL]: status({}) }, false],
    ['the CRL unreachable', { [CRL]: status({ reachable: false }) }, null],
    ['not fetched', {}, null],
  ])('chainRevoked when %s: %s', (_what, statuses, expected) => {
    expect(chainRevoked(targetRevocation([NEW], (key) => statuses[key]))).toBe(expected);
  });
});

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSelfSigned,
  createTestCa,
  issueIntermediate,
  issueLeaf,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../src/demo/certs.js';
import { chainChecks, dnsNameMatches, nameMatchesHostname, SERVER_AUTH_OID } from '../../src/probe/chain.js';
import { createHeadProber } from '../../src/probe/head.js';
import type { CertificateDetails, ProbeResult } from '../../src/probe/types.js';
import { VPN_HOSTNAME } from '../fixtures/certs.js';
import { closeAllRras, probeTarget, startRras } from '../fixtures/fake-rras.js';

const DAY_MS = 86_400_000;

describe('dnsNameMatches (RFC 6125)', () => {
  it.each([
    ['vpn.contoso.com', 'vpn.contoso.com', true],
    ['VPN.Contoso.COM', 'vpn.contoso.com', true],
    ['vpn.contoso.com.', 'vpn.contoso.com', true],
    ['vpn.contoso.com', 'vpn.contoso.com.', true],
    ['vpn.contoso.com', 'vpn2.contoso.com', false],
    ['*.contoso.com', 'vpn.contoso.com', true],
    ['*.Contoso.com', 'VPN.contoso.com', true],
    ['*.contoso.com', 'contoso.com', false],
    ['*.contoso.com', 'a.vpn.contoso.com', false],
    ['*.contoso.com', 'xn--bcher-kva.contoso.com', false],
    ['*.com', 'contoso.com', false],
    ['*', 'localhost', false],
    ['vpn*.contoso.com', 'vpn1.contoso.com', false],
    ['*vpn.contoso.com', 'avpn.contoso.com', false],
    ['vpn.*.com', 'vpn.contoso.com', false],
    ['*.*.contoso.com', 'a.b.contoso.com', false],
    ['', 'vpn.contoso.com', false],
    ['vpn.contoso.com', '', false],
  ])('%j covers %j: %s', (pattern, hostname, expected) => {
    expect(dnsNameMatches(pattern, hostname)).toBe(expected);
  });
});

describe('nameMatchesHostname', () => {
  it.each([
    ['a DNS SAN', 'vpn.contoso.com', ['vpn.contoso.com'], 'something.else', true],
    ['a wildcard SAN', 'vpn.contoso.com', ['*.contoso.com'], null, true],
    ['the CN is ignored when DNS SANs exist', 'vpn.contoso.com', ['other.contoso.com'], 'vpn.contoso.com', false],
    ['the CN counts without any DNS SAN', 'vpn.contoso.com', [], 'vpn.contoso.com', true],
    ['the CN counts when only IP SANs exist', 'vpn.contoso.com', ['10.0.0.1'], 'vpn.contoso.com', true],
    ['no names at all', 'vpn.contoso.com', [], null, false],
    ['an IP hostname needs an IP SAN', '10.0.0.1', ['10.0.0.1'], null, true],
    ['an IP hostname does not match a DNS name', '10.0.0.1', ['vpn.contoso.com'], '10.0.0.1', false],
    ['IPv6 in any notation', '::1', ['0:0:0:0:0:0:0:1'], null, true],
    ['IPv6 in brackets', '[::1]', ['::1'], null, true],
  ])('%s', (_what, hostname, san, cn, expected) => {
    expect(nameMatchesHostname(hostname, san, cn)).toBe(expected);
  });
});

function cert(overrides: Partial<CertificateDetails>): CertificateDetails {
  return {
    subject: 'CN=vpn.contoso.com',
    issuer: 'CN=Contoso Issuing CA',
    san: ['vpn.contoso.com'],
    notBefore: 0,
    notAfter: 100 * DAY_MS,
    sha256: 'AA',
    keyType: 'EC',
    keyBits: 256,
    commonName: 'vpn.contoso.com',
    serialNumber: '01',
    ekus: [SERVER_AUTH_OID],
    isCa: false,
    selfIssued: false,
    crlUrls: [],
    ocspUrls: [],
    caIssuerUrls: [],
    der: Buffer.alloc(0),
    ...overrides,
  };
}

const intermediate = cert({ subject: 'CN=Contoso Issuing CA', issuer: 'CN=Contoso Root', san: [], sha256: 'BB', isCa: true, ekus: null, notAfter: 500 * DAY_MS });
const root = cert({ subject: 'CN=Contoso Root', issuer: 'CN=Contoso Root', san: [], sha256: 'CC', isCa: true, ekus: null, selfIssued: true, notAfter: 900 * DAY_MS });
const anchors = () => new Set(['CC']);

describe('chainChecks', () => {
  it('passes a good chain: EKU, name, trusted, earliest expiry is the leaf', () => {
    expect(chainChecks([cert({}), intermediate, root], 'vpn.contoso.com', { error: null, anchors })).toEqual({
      serverAuthEku: true,
      nameMatchesHostname: true,
      chainTrusted: true,
      chainError: null,
      earliestExpiry: { notAfter: 100 * DAY_MS, position: 'leaf', subject: 'CN=vpn.contoso.com', sha256: 'AA' },
    });
  });

  it.each([
    ['no EKU extension', { ekus: null }, false],
    ['clientAuth only', { ekus: ['1.3.6.1.5.5.7.3.2'] }, false],
    ['anyExtendedKeyUsage', { ekus: ['2.5.29.37.0'] }, true],
    ['serverAuth among others', { ekus: ['1.3.6.1.5.5.7.3.2', SERVER_AUTH_OID] }, true],
  ])('server_auth_eku with %s: %s', (_what, leaf, expected) => {
    expect(chainChecks([cert(leaf), intermediate, root], 'vpn.contoso.com', { error: null, anchors })?.serverAuthEku).toBe(expected);
  });

  it('names the intermediate when it expires before the leaf', () => {
    const dying = { ...intermediate, notAfter: 10 * DAY_MS };
    expect(chainChecks([cert({}), dying, root], 'vpn.contoso.com', { error: null, anchors })?.earliestExpiry).toEqual({
      notAfter: 10 * DAY_MS,
      position: 'intermediate',
      subject: 'CN=Contoso Issuing CA',
      sha256: 'BB',
    });
  });

  it.each([
    ['a chain error is untrusted', [cert({}), intermediate], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ['a self-signed leaf is untrusted', [cert({ selfIssued: true })], 'DEPTH_ZERO_SELF_SIGNED_CERT', false, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['an expired leaf on a trusted chain is still a trusted chain', [cert({}), intermediate, root], 'CERT_HAS_EXPIRED', true, null],
    ['a purpose error on a trusted chain is still a trusted chain', [cert({}), intermediate, root], 'INVALID_PURPOSE', true, null],
    ['an expired leaf on an unknown root is untrusted', [cert({}), intermediate, { ...root, sha256: 'DD' }], 'CERT_HAS_EXPIRED', false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ['an expired leaf whose chain stops short is untrusted', [cert({}), intermediate], 'CERT_HAS_EXPIRED', false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  ])('%s', (_what, chain, error, trusted, code) => {
    const checks = chainChecks(chain, 'vpn.contoso.com', { error, anchors });
    expect({ trusted: checks?.chainTrusted, code: checks?.chainError }).toEqual({ trusted, code });
  });

  it('has nothing to say about an empty chain', () => {
    expect(chainChecks([], 'vpn.contoso.com', { error: null, anchors })).toBeNull();
  });
});

describe('the HEAD prober captures the presented chain', () => {
  const probe = createHeadProber();
  let root: CertificateAuthority;
  let issuing: CertificateAuthority;
  let shortLived: CertificateAuthority;
  afterEach(closeAllRras);

  beforeAll(async () => {
    root = await createTestCa({ commonName: 'chain test root' });
    [issuing, shortLived] = await Promise.all([
      issueIntermediate(root, { commonName: 'chain test issuing CA', crlUrls: ['http://127.0.0.1:9/root.crl'] }),
      issueIntermediate(root, { commonName: 'chain test dying CA', notAfter: new Date(Date.now() + 20 * DAY_MS) }),
    ]);
  });

  async function probeWith(leaf: IssuedCertificate, opts: { ca?: string; chainPem?: string } = {}): Promise<ProbeResult> {
    const server = await startRras({ ...leaf, chainPem: opts.chainPem ?? leaf.chainPem });
    return probe(probeTarget({ url: server.url, ca: opts.ca ?? root.certPem }));
  }

  it('reads leaf, intermediate and root with their EKUs, serials and revocation URLs', async () => {
    const leaf = await issueLeaf(issuing, {
      commonName: VPN_HOSTNAME,
      crlUrls: ['http://127.0.0.1:9/issuing.crl'],
      ocspUrls: ['http://127.0.0.1:9/ocsp'],
    });
    const result = await probeWith(leaf);
    expect(result.errorKind).toBe('ok');
    expect(result.chain?.map((c) => [c.subject, c.isCa, c.selfIssued])).toEqual([
      [`CN=${VPN_HOSTNAME}`, false, false],
      ['CN=chain test issuing CA, O=sstpwatch', true, false],
      ['CN=chain test root, O=sstpwatch', true, true],
    ]);
    const [l, i] = result.chain!;
    expect(l!.sha256).toBe(leaf.sha256);
    expect(l!.ekus).toEqual([SERVER_AUTH_OID]);
    expect(l!.serialNumber).toBe(leaf.cert.serialNumber.toUpperCase().replace(/^(00)+/, ''));
    expect(l!.crlUrls).toEqual(['http://127.0.0.1:9/issuing.crl']);
    expect(l!.ocspUrls).toEqual(['http://127.0.0.1:9/ocsp']);
    expect(i!.crlUrls).toEqual(['http://127.0.0.1:9/root.crl']);
    expect(result.chainChecks).toEqual({
      serverAuthEku: true,
      nameMatchesHostname: true,
      chainTrusted: true,
      chainError: null,
      earliestExpiry: { notAfter: l!.notAfter, position: 'leaf', subject: l!.subject, sha256: leaf.sha256 },
    });
  });

  it('reports a leaf without any EKU, and one with clientAuth only, as lacking server_auth_eku', async () => {
    const [none, clientOnly] = await Promise.all([
      issueLeaf(issuing, { commonName: VPN_HOSTNAME, omitEku: true }),
      issueLeaf(issuing, { commonName: VPN_HOSTNAME, serverAuthEku: false }),
    ]);
    const noEku = await probeWith(none);
    expect(noEku.chain?.[0]?.ekus).toBeNull();
    expect(noEku.chainChecks?.serverAuthEku).toBe(false);
    const client = await probeWith(clientOnly);
    expect(client.chain?.[0]?.ekus).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(client.chainChecks).toMatchObject({ serverAuthEku: false, chainTrusted: true });
  });

  it('reports a wildcard certificate as matching, and another name as not', async () => {
    const [wildcard, other] = await Promise.all([
      issueLeaf(issuing, { commonName: '*.example.test' }),
      issueLeaf(issuing, { commonName: 'other.example.test' }),
    ]);
    expect((await probeWith(wildcard)).chainChecks?.nameMatchesHostname).toBe(true);
    expect((await probeWith(other)).chainChecks?.nameMatchesHostname).toBe(false);
  });

  it('names a dying intermediate as the earliest expiry, not the leaf', async () => {
    const leaf = await issueLeaf(shortLived, { commonName: VPN_HOSTNAME });
    const result = await probeWith(leaf);
    expect(result.chainChecks?.earliestExpiry).toMatchObject({ position: 'intermediate', subject: 'CN=chain test dying CA, O=sstpwatch' });
    expect(result.chainChecks!.earliestExpiry.notAfter).toBeLessThan(result.certificate!.notAfter);
  });

  it('reports an untrusted root, a self-signed leaf and a missing intermediate as an untrusted chain', async () => {
    const leaf = await issueLeaf(issuing, { commonName: VPN_HOSTNAME });
    const other = await createTestCa({ commonName: 'not trusted' });
    const untrusted = await probeWith(leaf, { ca: other.certPem });
    expect(untrusted.chainChecks).toMatchObject({ chainTrusted: false, chainError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });

    const selfSigned = await probeWith(await createSelfSigned({ commonName: VPN_HOSTNAME }));
    expect(selfSigned.chainChecks).toMatchObject({ chainTrusted: false, chainError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });

    const incomplete = await probeWith(leaf, { chainPem: leaf.certPem });
    expect(incomplete.chain).toHaveLength(1);
    expect(incomplete.chainChecks).toMatchObject({ chainTrusted: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('still calls the chain trusted when only the leaf has expired', async () => {
    const leaf = await issueLeaf(issuing, {
      commonName: VPN_HOSTNAME,
      notBefore: new Date(Date.now() - 60 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    const result = await probeWith(leaf);
    expect(result.errorKind).toBe('cert_expired');
    expect(result.chainChecks).toMatchObject({ chainTrusted: true, earliestExpiry: { position: 'leaf' } });
  });

  it('has no chain over plain HTTP (TLS offloaded)', async () => {
    const server = await startRras(null);
    const result = await probe(probeTarget({ url: server.url }));
    expect(result.errorKind).toBe('ok');
    expect(result.chain).toBeUndefined();
    expect(result.chainChecks).toBeUndefined();
  });
});

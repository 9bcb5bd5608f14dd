// Revocation checked for real against a PKI run by `openssl ca` (CRLs, delta CRLs) and `openssl ocsp -index`
// (good, revoked, unknown; delegated and direct signers), served over HTTP on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { revocationFindings, type TargetRevocation } from '../../src/health/revocation-findings.js';
import { certificateDetails } from '../../src/probe/chain.js';
import { checkRevocation, revocationQueries, revocationSources, type RevocationKind, type RevocationStatus } from '../../src/probe/revocation.js';
import type { CertificateDetails } from '../../src/probe/types.js';
import { createOpensslPki, type OpensslPki, type OpensslServerCertificate } from '../fixtures/pki.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dir: string;
let pki: OpensslPki;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-revocation-'));
  pki = await createOpensslPki(dir);
});
afterAll(async () => {
  await pki?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  pki.ocspSigner(pki.responder);
  await pki.publishCrl();
  await pki.publishDelta();
});

function chainOf(leaf: OpensslServerCertificate): CertificateDetails[] {
  return [certificateDetails(leaf.der), certificateDetails(pki.issuing.certificate.der), certificateDetails(pki.root.certificate.der)];
}

/** Checks every source of the leaf (and its intermediate) as the monitor does; the leaf's status of `kind`. */
async function check(leaf: OpensslServerCertificate, kind: RevocationKind): Promise<{ status: RevocationStatus; revocation: TargetRevocation[] }> {
  const sources = revocationSources(chainOf(leaf));
  const statuses = new Map<string, RevocationStatus>();
  for (const [key, query] of revocationQueries(sources)) statuses.set(key, await checkRevocation(query, { timeoutMs: 5000 }));
  const revocation = sources.map(({ der: _d, issuerDer: _i, ...s }) => ({ ...s, status: statuses.get(s.key) ?? null }));
  const status = revocation.find((r) => r.kind === kind && r.position === 'leaf')!.status!;
  return { status, revocation };
}

function findings(revocation: TargetRevocation[]) {
  return revocationFindings([{ name: 'rras-1', chain: null }], new Map([['rras-1', revocation]]), Date.now()).map((f) => `${f.severity} ${f.code}`);
}

describe('CRLs published by openssl ca', () => {
  it('reads a fresh base CRL and its delta: both signed by the issuing CA, the leaf not listed, nothing to report', async () => {
    const leaf = await pki.issue();
    const { status, revocation } = await check(leaf, 'crl');
    expect(status).toMatchObject({ reachable: true, error: null, signature: 'valid', revokedSerials: [] });
    expect(status.delta).toMatchObject({ url: pki.server.base + pki.deltaPath, reachable: true, error: null, signature: 'valid' });
    expect(status.nextUpdate! - Date.now()).toBeGreaterThan(6 * DAY);
    expect(findings(revocation)).toEqual([]);
  });

  it('lists a leaf revoked before the base CRL: certificate_revoked, critical', async () => {
    const leaf = await pki.issue();
    await pki.issuing.revoke(leaf);
    await pki.publishCrl();
    await pki.publishDelta();
    const { status, revocation } = await check(leaf, 'crl');
    expect(status.revokedSerials).toEqual([leaf.serialNumber]);
    expect(findings(revocation)).toContain('critical certificate_revoked');
  });

  it('follows the delta CRL: a leaf revoked after the base CRL is found only there', async () => {
    const leaf = await pki.issue();
    await pki.publishCrl();
    await pki.issuing.revoke(leaf);
    await pki.publishDelta();
    const { status } = await check(leaf, 'crl');
    expect(status.revokedSerials).toEqual([leaf.serialNumber]);
  });

  it('reports a delta CRL named but not published (0x80092013 on AD CS clients)', async () => {
    const leaf = await pki.issue({ ocsp: false });
    pki.server.publish(pki.deltaPath, { status: 404 });
    const { status, revocation } = await check(leaf, 'crl');
    expect(status.delta).toMatchObject({ reachable: false, error: 'HTTP 404 instead of the CRL' });
    expect(findings(revocation)).toEqual(['critical delta_crl_unreachable']);
  });

  it('refuses a delta CRL that needs a newer base CRL than the one published', async () => {
    const leaf = await pki.issue({ ocsp: false });
    await pki.publishDelta();
    const base = pki.issuing.nextCrlNumber();
    pki.server.publish(pki.deltaPath, { body: await pki.issuing.crl({ deltaOf: base + 5 }) });
    const { status } = await check(leaf, 'crl');
    expect(status.delta?.error).toMatch(/applies to base CRL number \d+ or later, but the base CRL published is number \d+/);
  });

  it('warns when the CRL is close to its nextUpdate and has not been republished', async () => {
    const leaf = await pki.issue({ ocsp: false, delta: false });
    await pki.publishCrl({ lastUpdate: new Date(Date.now() - 6 * DAY), nextUpdate: new Date(Date.now() + 3 * HOUR) });
    const { revocation } = await check(leaf, 'crl');
    expect(findings(revocation)).toEqual(['warning crl_expires_soon']);
  });

  it('calls an expired CRL critical before any client fails on it', async () => {
    const leaf = await pki.issue({ delta: false });
    await pki.publishCrl({ lastUpdate: new Date(Date.now() - 8 * DAY), nextUpdate: new Date(Date.now() - HOUR) });
    const { status, revocation } = await check(leaf, 'crl');
    expect(status.nextUpdate).toBeLessThan(Date.now());
    expect(findings(revocation)).toContain('critical crl_expired');
  });

  it('rejects a CRL whose signature does not verify with the issuing CA', async () => {
    const leaf = await pki.issue({ ocsp: false, delta: false });
    const der = Buffer.from(await pki.publishCrl());
    der[der.length - 1] = der[der.length - 1]! ^ 0xff; // the last byte of the signature value
    pki.server.publish(pki.crlPath, { body: der });
    const { status, revocation } = await check(leaf, 'crl');
    expect(status).toMatchObject({ reachable: true, signature: 'invalid' });
    expect(findings(revocation)).toEqual(['critical crl_signature_invalid']);
  });

  it("rejects the root's CRL published at the issuing CA's URL: another issuer", async () => {
    const leaf = await pki.issue({ ocsp: false, delta: false });
    pki.server.publish(pki.crlPath, { body: await pki.root.crl() });
    const { status } = await check(leaf, 'crl');
    expect(status.signature).toBe('invalid');
    expect(status.signatureProblem).toMatch(/issued by .*sstpwatch openssl root, not by the CA that issued the certificate/);
  });
});

describe('OCSP answered by openssl ocsp -index', () => {
  it('asks about the leaf and gets "good", signed by the delegated responder', async () => {
    const leaf = await pki.issue();
    const { status } = await check(leaf, 'ocsp');
    expect(status).toMatchObject({ reachable: true, ocspStatus: 'good', signature: 'valid', revokedSerials: [], error: null });
    expect(status.nextUpdate! - status.thisUpdate!).toBe(DAY);
  });

  it('gets "revoked" with the revocation time for a revoked leaf: certificate_revoked', async () => {
    const leaf = await pki.issue({ delta: false });
    await pki.issuing.revoke(leaf);
    const { status, revocation } = await check(leaf, 'ocsp');
    expect(status).toMatchObject({ ocspStatus: 'revoked', revokedSerials: [leaf.serialNumber] });
    expect(status.revokedAt).toBeLessThanOrEqual(Date.now());
    expect(findings(revocation)).toContain('critical certificate_revoked');
  });

  it('gets "unknown" for a certificate the responder has no record of', async () => {
    const leaf = await pki.issuing.issueUnrecorded({ commonName: 'vpn.example.test', ocspUrls: [pki.server.base + pki.ocspPath], crlUrls: [pki.server.base + pki.crlPath] });
    const { status, revocation } = await check({ ...leaf, chainPem: leaf.certPem }, 'ocsp');
    expect(status.ocspStatus).toBe('unknown');
    expect(findings(revocation)).toEqual(['warning ocsp_unknown']); // the CRL still answers
  });

  it('accepts an answer signed by the issuing CA itself', async () => {
    pki.ocspSigner(pki.issuing.certificate);
    const { status } = await check(await pki.issue(), 'ocsp');
    expect(status).toMatchObject({ ocspStatus: 'good', signature: 'valid' });
  });

  it('rejects an answer signed by a certificate the issuing CA did not delegate', async () => {
    pki.ocspSigner(pki.root.certificate);
    const { status, revocation } = await check(await pki.issue({ delta: false }), 'ocsp');
    expect(status.signature).toBe('invalid');
    expect(status.signatureProblem).toMatch(/neither the issuing CA nor a certificate it issued|did not issue/);
    expect(findings(revocation)).toEqual(['warning ocsp_signature_invalid']);
  });

  it('rejects a delegated responder without the OCSP Signing EKU', async () => {
    const server = await pki.issuing.issue({ commonName: 'not-a-responder.example.test' });
    pki.ocspSigner(server);
    const { status } = await check(await pki.issue(), 'ocsp');
    expect(status.signature).toBe('invalid');
    expect(status.signatureProblem).toMatch(/without the OCSP Signing EKU/);
  });
});

// `sstpwatch check` on certificates: the chain, each finding with its fix, revocation fetched now, and
// --offload-hash. In process (runCheck) for most cases, and once through the real command.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { VPN_HOSTNAME } from '../fixtures/certs.js';
import { closeAllRras, startRras } from '../fixtures/fake-rras.js';
import { createOpensslPki, createTestPki, type OpensslPki, type TestPki } from '../fixtures/pki.js';
import { BIN } from '../fixtures/service.js';

let pki: TestPki;
let dir: string;
let caFile: string;

beforeAll(async () => {
  pki = await createTestPki();
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-check-certs-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.root.certPem);
});
afterAll(async () => {
  await closeAllRras();
  await pki?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await pki.publishCrl();
});

async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCheck(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sstpwatch check: certificate findings', () => {
  it('prints the chain, passing checks, checked CRLs and the TLS-offload instruction (AOVPNTools or the registry) for a good certificate', async () => {
    const leaf = await pki.issue();
    const server = await startRras(leaf);
    const { code, out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(0);
    expect(out).toMatch(/0\. leaf +CN=vpn\.example\.test/);
    expect(out).toMatch(/1\. intermediate +CN=sstpwatch PKI issuing CA/);
    expect(out).toMatch(/2\. root +CN=sstpwatch PKI root/);
    expect(out).toContain('ok   Server Authentication EKU');
    expect(out).toContain(`ok   names ${VPN_HOSTNAME}`);
    expect(out).toContain('ok   chain to a trusted root');
    expect(out).toMatch(/CRL {2}leaf +http:\/\/127\.0\.0\.1:\d+\/issuing\.crl: not listed, signature ok, next update/);
    expect(out).not.toMatch(/CRITICAL|WARNING/);
    expect(out).toContain(`Enable-SstpOffload -CertificateHash ${leaf.sha256} -Restart (a cmdlet of Richard Hicks' AOVPNTools PowerShell module`);
    expect(out).toContain(`UseHttps = 0 (DWORD), isHashConfiguredByAdmin = 1 (DWORD) and SHA256CertificateHash = ${leaf.sha256}`);
  });

  it('explains a leaf without the Server Authentication EKU, with its fix', async () => {
    const server = await startRras(await pki.issue({ serverAuthEku: false }));
    const { out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation');
    expect(out).toContain('FAIL Server Authentication EKU');
    expect(out).toMatch(/CRITICAL no_server_auth_eku: .*clientAuth/);
    expect(out).toContain('Fix: Issue a certificate from a template with the Server Authentication EKU');
    expect(out).toMatch(/CRL {2}leaf +http:\/\/127\.0\.0\.1:\d+\/issuing\.crl: not checked/);
  });

  it('explains an unreachable CRL, the only revocation source: clients fail, exit 1', async () => {
    const server = await startRras(await pki.issue());
    pki.server.publish(pki.crlPath, { status: 404 });
    const unreachable = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(unreachable.code).toBe(1);
    expect(unreachable.out).toMatch(/issuing\.crl: UNREACHABLE \(HTTP 404 instead of the CRL\)/);
    expect(unreachable.out).toMatch(/CRITICAL crl_unreachable: .*0x80092013/);
    expect(unreachable.out).toMatch(/DOWN for SSTP clients:[\s\S]*crl_unreachable/);
  });

  it('with --offload-hash, asks to run Enable-SstpOffload with the load balancer\'s hash when they differ', async () => {
    const lb = await pki.issue();
    const server = await startRras(lb);
    const wrong = 'ab:'.repeat(31) + 'ab';
    const bad = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation', '--offload-hash', wrong);
    expect(bad.out).toContain('CRITICAL offload_hash_mismatch');
    expect(bad.out).toContain(`Fix: On the offloaded RRAS servers: run Enable-SstpOffload -CertificateHash ${lb.sha256} -Restart (a cmdlet of Richard Hicks' AOVPNTools`);
    const good = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation', '--offload-hash', lb.sha256.toLowerCase());
    expect(good.out).not.toContain('offload_hash_mismatch');
    expect(good.out).toContain(`this certificate's SHA-256 is the configured hash ${lb.sha256}`);
  });

  it.each([
    [['--offload-hash', 'abc'], /--offload-hash must be a SHA-256 hash/],
    [['--offload-hash', 'AB'.repeat(32), '--offload'], /give its https:\/\/ URL|--offload probes plain HTTP/],
  ])('refuses bad usage %j with exit 2', async (extra, message) => {
    const url = extra.includes('--offload') ? 'http://127.0.0.1:1' : 'https://127.0.0.1:1';
    const { code, err } = await check(url, ...extra);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('adds the chain, checks, revocation and findings to --json, through the real command', async () => {
    const server = await startRras(await pki.issue({ commonName: 'other.example.test' }));
    const run = promisify(execFile);
    let stdout = '';
    try {
      ({ stdout } = await run(process.execPath, [BIN, 'check', server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--json'], { timeout: 20_000 }));
    } catch (err) {
      stdout = (err as { stdout: string }).stdout; // exit 1: the name does not match
    }
    const json = JSON.parse(stdout);
    expect(json.error_kind).toBe('cert_hostname_mismatch');
    expect(json.certificate_chain.map((c: { position: string }) => c.position)).toEqual(['leaf', 'intermediate', 'root']);
    expect(json.certificate_checks).toMatchObject({ name_matches_hostname: false, server_auth_eku: true, chain_trusted: true, revoked: false });
    expect(json.revocation).toHaveLength(2);
    expect(json.revocation[0]).toMatchObject({ kind: 'crl', certificate: 'leaf', reachable: true, signature: 'valid', revoked: false, delta_crl: null });
    expect(json.findings.map((f: { code: string }) => f.code)).toEqual(['name_mismatch']);
  });
});

describe('sstpwatch check: revocation against an openssl CA, its CRLs and its OCSP responder', () => {
  let opensslDir: string;
  let ca: OpensslPki;
  beforeAll(async () => {
    opensslDir = mkdtempSync(join(tmpdir(), 'sstpwatch-check-openssl-'));
    ca = await createOpensslPki(opensslDir);
  });
  afterAll(async () => {
    await ca?.close();
    rmSync(opensslDir, { recursive: true, force: true });
  });

  it('passes a good certificate: CRL, delta CRL and OCSP all say so, exit 0', async () => {
    const server = await startRras(await ca.issue());
    const { code, out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', ca.caFile);
    expect(code).toBe(0);
    expect(out).toMatch(/CRL {2}leaf .*openssl-issuing\.crl: not listed, signature ok, next update .*, delta .*openssl-delta\.crl: signature ok/);
    expect(out).toMatch(/OCSP leaf .*openssl-ocsp: good, signature ok, next update/);
  });

  it('exits 1 with the fix for a leaf its CRL lists as revoked', async () => {
    const leaf = await ca.issue({ ocsp: false });
    await ca.issuing.revoke(leaf);
    await ca.publishCrl();
    await ca.publishDelta();
    const server = await startRras(leaf);
    const { code, out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', ca.caFile);
    expect(code).toBe(1);
    expect(out).toMatch(/UP: /); // the server answers...
    expect(out).toMatch(/openssl-issuing\.crl: REVOKED/);
    expect(out).toMatch(/CRITICAL certificate_revoked: The leaf certificate CN=vpn\.example\.test \(serial [0-9A-F]+\) is revoked: the CRL at .* lists it/);
    expect(out).toContain('Fix: Issue a new certificate and bind it on every server (and the load balancer)');
    expect(out).toMatch(/DOWN for SSTP clients:[\s\S]*certificate_revoked/); // ...but clients will not connect
  });

  it('exits 1 with the fix when the OCSP responder says revoked', async () => {
    const leaf = await ca.issue({ delta: false });
    await ca.issuing.revoke(leaf);
    const server = await startRras(leaf);
    const { code, out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', ca.caFile);
    expect(code).toBe(1);
    expect(out).toMatch(/OCSP leaf .*openssl-ocsp: REVOKED since \d{4}-/);
    expect(out).toMatch(/CRITICAL certificate_revoked: .*the OCSP responder .* answers "revoked"/);
  });

  it('calls an expired CRL critical, exit 1, while the HEAD probe is green', async () => {
    const server = await startRras(await ca.issue({ ocsp: false, delta: false }));
    await ca.publishCrl({ lastUpdate: new Date(Date.now() - 8 * 86_400_000), nextUpdate: new Date(Date.now() - 3_600_000) });
    try {
      const { code, out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', ca.caFile);
      expect(code).toBe(1);
      expect(out).toMatch(/openssl-issuing\.crl: not listed, signature ok, EXPIRED/);
      expect(out).toMatch(/CRITICAL crl_expired: .*0x80092013/);
    } finally {
      await ca.publishCrl();
    }
  });
});

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
import { createTestPki, type TestPki } from '../fixtures/pki.js';
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
  it('prints the chain, passing checks, reachable CRLs and the Enable-SSTPOffload hash of a good certificate', async () => {
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
    expect(out).toMatch(/CRL  leaf +http:\/\/127\.0\.0\.1:\d+\/issuing\.crl: reachable, next update/);
    expect(out).not.toMatch(/CRITICAL|WARNING/);
    expect(out).toContain(`Enable-SSTPOffload -CertificateHash ${leaf.sha256} -Restart`);
  });

  it('explains a leaf without the Server Authentication EKU, with its fix', async () => {
    const server = await startRras(await pki.issue({ serverAuthEku: false }));
    const { out } = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation');
    expect(out).toContain('FAIL Server Authentication EKU');
    expect(out).toMatch(/CRITICAL no_server_auth_eku: .*clientAuth/);
    expect(out).toContain('Fix: Issue a certificate from a template with the Server Authentication EKU');
    expect(out).toMatch(/CRL  leaf +http:\/\/127\.0\.0\.1:\d+\/issuing\.crl: not checked/);
  });

  it('explains a revoked leaf and an unreachable CRL', async () => {
    const leaf = await pki.issue();
    const server = await startRras(leaf);
    await pki.publishCrl({ revoked: [leaf.cert] });
    const revoked = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(revoked.out).toMatch(/issuing\.crl: reachable, next update .*, REVOKED/);
    expect(revoked.out).toMatch(/CRITICAL certificate_revoked: The leaf certificate CN=vpn\.example\.test \(serial [0-9A-F]+\) is listed as revoked/);

    pki.server.publish(pki.crlPath, { status: 404 });
    const unreachable = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(unreachable.out).toMatch(/issuing\.crl: UNREACHABLE \(HTTP 404 instead of the CRL\)/);
    expect(unreachable.out).toMatch(/WARNING crl_unreachable: .*Another revocation source of that certificate still answers/);
  });

  it('with --offload-hash, asks to run Enable-SSTPOffload with the load balancer\'s hash when they differ', async () => {
    const lb = await pki.issue();
    const server = await startRras(lb);
    const wrong = 'ab:'.repeat(31) + 'ab';
    const bad = await check(server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation', '--offload-hash', wrong);
    expect(bad.out).toContain('CRITICAL offload_hash_mismatch');
    expect(bad.out).toContain(`Fix: Run Enable-SSTPOffload -CertificateHash ${lb.sha256} -Restart on the offloaded RRAS servers.`);
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
    expect(json.revocation).toHaveLength(3);
    expect(json.findings.map((f: { code: string }) => f.code)).toEqual(['name_mismatch']);
  });
});

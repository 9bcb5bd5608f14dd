import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { startFakeSstp, type FakeSstp } from '../../src/demo/fake-sstp.js';
import { testCertificates, VPN_HOSTNAME } from '../fixtures/certs.js';
import { runSstpwatch } from '../fixtures/service.js';

const sstpwatch = (...args: string[]) => runSstpwatch(args, { SSTPWATCH_CONFIG: '' });

/** runCheck in process, its output collected. */
async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCheck(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sstpwatch check --sstp', () => {
  let dir: string;
  let caFile: string;
  let accepting: FakeSstp;
  let refusing: FakeSstp;
  let offloaded: FakeSstp;

  beforeAll(async () => {
    const certs = await testCertificates();
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-cli-sstp-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certs.ca.certPem);
    const tls = { cert: certs.valid.chainPem, key: certs.valid.keyPem };
    accepting = await startFakeSstp({ tls, behavior: 'ack' });
    refusing = await startFakeSstp({ tls, behavior: 'disconnect-after-ack' });
    offloaded = await startFakeSstp({ tls: null, behavior: 'sha1-only' });
  });

  afterAll(async () => {
    await Promise.all([accepting, refusing, offloaded].map((s) => s?.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('explains each stage of an accepted call and exits 0 (the real command)', async () => {
    const { code, stdout } = await sstpwatch('check', '--sstp', accepting.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[deep SSTP check\]/);
    expect(stdout).toMatch(/UP: SSTP call accepted \(Call Connect Ack\), then disconnected cleanly/);
    expect(stdout).toMatch(/1 ok {3}transport: TCP \+ TLSv1\.3/);
    expect(stdout).toMatch(/2 ok {3}SSTP_DUPLEX_POST -> HTTP\/1\.1 200 \(\d+\.\d ms\)/);
    expect(stdout).toMatch(/3 ok {3}Call Connect Request -> Call Connect Ack, crypto binding SHA-256 \(bitmask 0x02\)/);
    expect(stdout).toMatch(/4 ok {3}Call Disconnect -> call closed cleanly/);
    expect(stdout).toMatch(/correlation id \{[0-9A-F-]{36}\}/);
    await accepting.idle();
    expect(accepting.calls.at(-1)!.clientDisconnected).toBe(true);
  });

  it('names a call dropped right after the Ack, with what to check, and exits 1', async () => {
    const { code, out } = await check('--sstp', refusing.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(1);
    expect(out).toMatch(/DOWN: call dropped right after the Call Connect Ack/);
    expect(out).toMatch(/\[sstp_abort, sstp phase\]/);
    expect(out).toMatch(/not the address pool/);
    expect(out).toMatch(/RemoteAccess and RasSstp events/);
  });

  it('checks an offloaded server over plain HTTP and warns of a SHA-1-only offer, exit 0: the call was accepted', async () => {
    const { code, out } = await check('--sstp', offloaded.url, '--hostname', VPN_HOSTNAME, '--offload');
    expect(code).toBe(0);
    expect(out).toMatch(/UP: SSTP call accepted, but the crypto binding offered is SHA-1 only/);
    expect(out).toMatch(/practical collision attacks/);
    expect(out).toMatch(/warning: the server offers only SHA-1/);
    expect(out).toMatch(/transport: TCP \(plain HTTP, TLS offloaded\)/);
    expect(out).toMatch(/Call Connect Ack, crypto binding SHA-1 \(bitmask 0x01\)/);
  });

  it('prints the result object with its sstp block under --json', async () => {
    const { code, out } = await check('--sstp', accepting.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      ok: true,
      error_kind: 'ok',
      status_code: 200,
      sstp: { stage_reached: 'disconnect_ack', reply: 'ack', hash_bitmask: 2, disconnect_acked: true },
    });
  });

  it('rejects a bad command line with exit 2', async () => {
    const { code, err } = await check('--sstp');
    expect(code).toBe(2);
    expect(err).toMatch(/a URL is required/);
  });
});

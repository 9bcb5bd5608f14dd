// Proves the fake SSTP server speaks real MS-SSTP: Debian's SSTP client (sstp-client's sstpc) gets through the
// HTTP part and the Call Connect Request to the server's Call Connect Ack, and handles its Nak as a Nak.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, issueLeaf } from '../../src/demo/certs.js';
import { startFakeSstp, type FakeSstp, type SstpMode } from '../../src/demo/fake-sstp.js';
import { MESSAGE_TYPES } from '../../src/probe/sstp-frames.js';

const SSTPC = '/usr/sbin/sstpc';
const SSTPC_DEADLINE_MS = 40_000;

let dir: string;
let tlsPem: { cert: string; key: string };
const servers: FakeSstp[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  const version = spawnSync(SSTPC, ['--version']);
  if (version.error) throw new Error(`${SSTPC} cannot run (${version.error.message}): install the Debian package sstp-client`);
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-sstpc-'));
  const ca = await createTestCa({ commonName: 'sstpwatch sstpc test CA' });
  const leaf = await issueLeaf(ca, { commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  tlsPem = { cert: leaf.chainPem, key: leaf.keyPem };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * sstpc now and then gives up before any SSTP exchange: its libevent loop runs out of events and it exits 255 with
 * "The event loop terminated unsuccessfully", having logged nothing past "Connected". Seen right after the TCP
 * connect (the fake records no call) and after sstpc sent its SSTP_DUPLEX_POST (the fake records the call and
 * answers 200 exactly as in the runs that go on), about one run in four on 2 loaded cores. Either way sstpc never
 * reached the SSTP messages this file is about: such a run is tried again, at most twice. A run in which an SSTP
 * control packet was sent or received counts as it is.
 */
const NEVER_SPOKE = /The event loop terminated unsuccessfully/;
const SSTP_EXCHANGED = /SSTP CRTL PKT/;
/** Runs sstpc against a fake in `mode` until its log matches `until`; returns the log, or fails with it. */
async function runSstpc(mode: SstpMode, until: RegExp): Promise<{ log: string; server: FakeSstp }> {
  for (let attempt = 1; ; attempt++) {
    const run = await runSstpcOnce(mode, until);
    const spoke = SSTP_EXCHANGED.test(run.log) || !NEVER_SPOKE.test(run.log);
    if (run.error === null) return run;
    if (spoke || attempt === 3) throw run.error;
  }
}

async function runSstpcOnce(mode: SstpMode, until: RegExp): Promise<{ log: string; server: FakeSstp; error: Error | null }> {
  const server = await startFakeSstp({ tls: tlsPem, behavior: mode });
  servers.push(server);
  const child = spawn(
    SSTPC,
    ['--nolaunchpppd', '--log-stderr', '--log-level', '4', '--ca-cert', join(dir, 'ca.pem'),
      '--user', 'sstpwatch-probe', '--password', 'not-a-secret', `127.0.0.1:${server.port}`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.push(child);
  let log = '';
  // sstpc ends each log line with a NUL byte before the newline.
  child.stderr.on('data', (d: Buffer) => (log += d.toString().replaceAll('\0', '')));
  child.stdout.on('data', () => {}); // PPP bytes meant for pppd
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // sstpc is a separate program: on a loaded machine it may take seconds, so it gets a deadline of its own, well
  // inside the test's timeout, and missing it fails with what sstpc said so far rather than a bare timeout.
  const deadline = Date.now() + SSTPC_DEADLINE_MS;
  while (!until.test(log) && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const running = child.exitCode === null && child.signalCode === null;
  if (running) child.kill('SIGTERM');
  await exited;
  if (!until.test(log)) {
    const how = running ? `was still running after ${SSTPC_DEADLINE_MS / 1000} s` : `exited (${child.exitCode ?? child.signalCode})`;
    return { log, server, error: new Error(`${SSTPC} ${how} without logging ${until} against the fake in mode '${mode}'; its log:\n${log}`) };
  }
  return { log, server, error: null };
}

describe("Debian's sstpc against the fake SSTP server", () => {
  it('reaches the Call Connect Ack with its Crypto Binding Request', async () => {
    const { log, server } = await runSstpc('ack', /Started PPP Link Negotiation/);
    expect(log).toMatch(/TYPE\(1\): CONNECT REQUEST/);
    expect(log).toMatch(/RECV SSTP CRTL PKT\(48\)\s*\n[^\n]*TYPE\(2\): CONNECT ACK, ATTR\(1\)/);
    expect(log).toMatch(/CRYPTO BIND REQ\(4\): 40/);
    expect(log).toMatch(/Started PPP Link Negotiation/);
    const [call] = server.calls;
    expect(call).toMatchObject({ method: 'SSTP_DUPLEX_POST', target: '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/' });
    expect(call!.headers['content-length']).toBe('18446744073709551615');
    expect(call!.correlationId).toMatch(/^\{[0-9A-F-]+\}$/);
    expect(call!.received[0]).toBe(MESSAGE_TYPES.callConnectRequest);
  }, SSTPC_DEADLINE_MS + 10_000);

  it('reads its Nak as a Nak and disconnects, which the fake acknowledges', async () => {
    const { log, server } = await runSstpc('nak', /DISCONNECT ACK/);
    expect(log).toMatch(/TYPE\(3\): CONNECT NAK, ATTR\(1\)/);
    expect(log).toMatch(/STATUS INFO\(2\): 12/);
    expect(log).toMatch(/TYPE\(7\): DISCONNECT ACK/);
    expect(server.calls[0]!.clientDisconnected).toBe(true);
  }, SSTPC_DEADLINE_MS + 10_000);
});

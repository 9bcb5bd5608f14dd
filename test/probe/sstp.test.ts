import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSstp, type FakeSstp, type SstpBehavior, type SstpMode } from '../../src/demo/fake-sstp.js';
import { MESSAGE_TYPES } from '../../src/probe/sstp-frames.js';
import { createSstpProber, disconnectWaitFor } from '../../src/probe/sstp.js';
import { buildDuplexPost } from '../../src/probe/sstp-http.js';
import type { ErrorKind, ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import { testCertificates, type TestCertificates } from '../fixtures/certs.js';
import { probeTarget } from '../fixtures/fake-rras.js';

const TIMEOUT_MS = 2000;
const MARGIN_MS = 1000;

const probeSstp = createSstpProber();
let certs: TestCertificates;
const servers = new Set<FakeSstp>();

beforeAll(async () => {
  certs = await testCertificates();
});
afterEach(async () => {
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

async function startSstp(behavior: SstpBehavior | SstpMode, tls = true): Promise<FakeSstp> {
  const server = await startFakeSstp({ tls: tls ? { cert: certs.valid.chainPem, key: certs.valid.keyPem } : null, behavior });
  servers.add(server);
  return server;
}

/** Probes, checks the result settled within the timeout (plus scheduling slack), and waits for the server side to close. */
async function probe(server: FakeSstp, opts: { timeoutMs?: number; verify?: boolean } = {}): Promise<ProbeResult> {
  const target = probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs: opts.timeoutMs ?? TIMEOUT_MS, verify: opts.verify });
  return run(target, server);
}

async function run(target: ProbeTarget, server: FakeSstp | null, signal?: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  const result = await probeSstp(target, signal);
  expect(performance.now() - started).toBeLessThan(target.settings.timeoutMs + MARGIN_MS);
  expect(result.ok).toBe(result.errorKind === 'ok');
  expect(result.message).not.toBe('');
  expect(result.sstp).toBeDefined();
  await server?.idle();
  return result;
}

function expectKind(result: ProbeResult, kind: ErrorKind, message?: RegExp): void {
  expect({ kind: result.errorKind, message: result.message }).toMatchObject({ kind });
  if (message) expect(result.message).toMatch(message);
}

describe('the deep SSTP check against a server that accepts the call', () => {
  it('sends SSTP_DUPLEX_POST with the SSTP headers, gets the Ack, and ends the call with Call Disconnect', async () => {
    const server = await startSstp('ack');
    const result = await probe(server);
    expectKind(result, 'ok', /Call Connect Ack offering SHA-256/);
    expect(result.statusCode).toBe(200);
    expect(result.sstp).toMatchObject({
      stageReached: 'disconnect_ack',
      reply: 'ack',
      hashBitmask: 0x02,
      status: null,
      disconnectSent: true,
      disconnectAcked: true,
      stagesMs: { http: expect.any(Number), call: expect.any(Number), disconnect: expect.any(Number) },
    });
    expect(result.phasesMs).toMatchObject({ dns: 0, connect: expect.any(Number), tls: expect.any(Number) });
    expect(result.tlsVersion).toBe('TLSv1.3');
    const [call] = server.calls;
    expect(call).toMatchObject({
      method: 'SSTP_DUPLEX_POST',
      target: '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/',
      correlationId: `{${result.sstp!.correlationId}}`,
      clientDisconnected: true,
      closed: true,
    });
    expect(call!.headers).toMatchObject({ host: `vpn.example.test:${server.port}`, 'content-length': '18446744073709551615' });
    expect(call!.received).toEqual([MESSAGE_TYPES.callConnectRequest, MESSAGE_TYPES.callDisconnect]);
  });

  it('works over plain HTTP behind a TLS-offloading load balancer', async () => {
    const server = await startSstp('ack', false);
    const result = await probe(server);
    expectKind(result, 'ok');
    expect(result.tlsVersion).toBeNull();
    expect(result.phasesMs.tls).toBeUndefined();
    expect(server.calls[0]!.clientDisconnected).toBe(true);
  });

  it('still reports ok when the Disconnect Ack never comes, within the timeout, noting it', async () => {
    const server = await startSstp({ mode: 'ack', ackDisconnect: false });
    const result = await probe(server, { timeoutMs: 1500 });
    expectKind(result, 'ok', /no Call Disconnect Ack within 300ms/);
    expect(result.sstp).toMatchObject({ stageReached: 'call_reply', disconnectSent: true, disconnectAcked: false });
    expect(server.calls[0]!.clientDisconnected).toBe(true);
  });
});

describe('the deep SSTP check names each way a server fails, and ends the call as a real client does', () => {
  // How the client ended the call, checked on the server's side (the fake behaves as accel-ppp's sstp.c).
  type End = 'disconnect' | 'abort' | 'acked-disconnect' | 'nothing';
  it.each<[string, SstpBehavior | SstpMode, ErrorKind, RegExp, Partial<NonNullable<ProbeResult['sstp']>>, End]>([
    ['a Nak', 'nak', 'sstp_nak', /Call Connect Nak, value not supported \(4\) for Encapsulated Protocol ID/,
      { reply: 'nak', status: { code: 4, attributeId: 1 }, stageReached: 'disconnect_ack' }, 'disconnect'],
    ['a Call Abort: answered with a Call Abort, no Disconnect, no wait', 'abort', 'sstp_abort', /Call Abort instead of an Ack, negotiation timeout \(8\)/,
      { reply: 'abort', status: { code: 8, attributeId: 0 }, abortSent: true, disconnectSent: false, disconnectAcked: false }, 'abort'],
    ['a Disconnect right after the Ack', 'disconnect-after-ack', 'sstp_abort', /Call Disconnect right after its Call Connect Ack/,
      { reply: 'ack', stageReached: 'disconnect_ack', disconnectAcked: true, abortSent: false }, 'acked-disconnect'],
    ['a bad version byte: a framing error, the connection dropped without a word', 'bad-version', 'sstp_bad_frame', /version byte 0x11/,
      { reply: null, disconnectSent: false, abortSent: false }, 'nothing'],
    ['a well-framed invalid message: answered with a Call Abort', 'invalid-ack', 'sstp_bad_frame', /invalid SSTP message from the server: Crypto Binding Request attribute length 39/,
      { reply: null, abortSent: true, disconnectSent: false }, 'abort'],
    ['a truncated packet', 'truncated', 'sstp_bad_frame', /truncated packet: 20 of 48 bytes/, { reply: null }, 'nothing'],
    ['no answer to Call Connect Request', 'silent-after-request', 'sstp_no_response', /no answer to Call Connect Request within/,
      { stageReached: 'http', reply: null, disconnectSent: true, disconnectAcked: true }, 'disconnect'],
  ])('%s', async (_name, behavior, kind, message, details, end) => {
    const server = await startSstp(behavior);
    const started = performance.now();
    const result = await probe(server, { timeoutMs: 1500 });
    expectKind(result, kind, message);
    expect(result.sstp).toMatchObject(details);
    expect(result.statusCode).toBe(200);
    const call = server.calls[0]!;
    expect(call.closed).toBe(true);
    switch (end) {
      case 'disconnect':
        expect(call.clientDisconnected).toBe(true);
        break;
      case 'abort':
        // A server in its abort state would never acknowledge a Disconnect: the client does not send one or wait.
        expect(call.clientAborted).toBe(true);
        expect(call.clientDisconnected).toBe(false);
        expect(result.durationMs).toBeLessThan(disconnectWaitFor(1500));
        break;
      case 'acked-disconnect':
        expect(call.received).toContain(MESSAGE_TYPES.callDisconnectAck);
        break;
      case 'nothing':
        expect(call.received).toEqual([MESSAGE_TYPES.callConnectRequest]);
        expect(call.receivedAfterBadFrame).toBe(0);
        break;
    }
    expect(performance.now() - started).toBeLessThan(1500 + MARGIN_MS);
  });

  it('accepts an Ack offering SHA-1 only, with a warning: the call was accepted', async () => {
    const server = await startSstp('sha1-only');
    const result = await probe(server);
    expectKind(result, 'ok', /SSTP call accepted: Call Connect Ack offering SHA-1 \(warning: the server offers only SHA-1/);
    expect(result.sstp).toMatchObject({ reply: 'ack', hashBitmask: 0x01, warning: expect.stringMatching(/only SHA-1/), disconnectAcked: true });
    expect(server.calls[0]!.clientDisconnected).toBe(true);
  });

  it('ignores a message type MS-SSTP does not define, as accel-ppp does, and takes the Ack after it', async () => {
    const server = await startSstp('unknown-then-ack');
    const result = await probe(server);
    expectKind(result, 'ok', /Call Connect Ack offering SHA-256/);
    expect(result.sstp).toMatchObject({ warning: null, abortSent: false, disconnectAcked: true });
  });

  it('fails at the HTTP step when a 200 carries another Content-Length (a web page, a proxy), as sstp-client does', async () => {
    const server = await startSstp({ mode: 'content-length', contentLength: '1234' });
    const result = await probe(server);
    expectKind(result, 'sstp_http_status', /answered 200 with Content-Length: 1234, not 18446744073709551615: not an SSTP server/);
    expect(result.sstp).toMatchObject({ stageReached: 'transport', disconnectSent: false, abortSent: false });
    expect(server.calls[0]!.received).toEqual([]);
  });

  it('a non-200 answer to the POST is sstp_http_status; no call was started, so none is ended', async () => {
    const server = await startSstp({ mode: 'http-status', status: 503 });
    const result = await probe(server);
    expectKind(result, 'sstp_http_status', /SSTP_DUPLEX_POST answered 503 Error, expected 200/);
    expect(result.statusCode).toBe(503);
    expect(result.sstp).toMatchObject({ stageReached: 'transport', disconnectSent: false });
    expect(server.calls[0]!.received).toEqual([]);
  });

  it('no answer to the POST is sstp_no_response, within the timeout', async () => {
    const server = await startSstp('silent-after-post');
    const result = await probe(server, { timeoutMs: 1000 });
    expectKind(result, 'sstp_no_response', /no HTTP response to SSTP_DUPLEX_POST within 800ms/);
    expect(result.sstp!.stageReached).toBe('transport');
  });

  it('certificate checks apply as in the HEAD probe, before anything is sent', async () => {
    const server = await startFakeSstp({ tls: { cert: certs.wrongName.chainPem, key: certs.wrongName.keyPem }, behavior: 'ack' });
    servers.add(server);
    const result = await probe(server);
    expectKind(result, 'cert_hostname_mismatch');
    expect(server.calls).toEqual([]);
    expect(result.sstp!.stageReached).toBe('none');
  });

  it('a refused port is connect_refused', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const result = await run(probeTarget({ url: `https://127.0.0.1:${port}`, timeoutMs: 1000 }), null);
    expectKind(result, 'connect_refused');
  });

  it('an abort during the call still sends Call Disconnect', async () => {
    const server = await startSstp('silent-after-request');
    const abort = new AbortController();
    const target = probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs: 5000 });
    const pending = run(target, server, abort.signal);
    await waitUntil(() => server.calls[0]?.received.includes(MESSAGE_TYPES.callConnectRequest) ?? false);
    abort.abort();
    const result = await pending;
    expectKind(result, 'timeout', /aborted during the SSTP call/);
    expect(server.calls[0]!.clientDisconnected).toBe(true);
  });
});

describe('pure parts', () => {
  it('the POST carries the SSTP headers', () => {
    expect(buildDuplexPost('/sra_{X}/', 'vpn.example.com', 'ABC', 'ua')).toBe(
      'SSTP_DUPLEX_POST /sra_{X}/ HTTP/1.1\r\nHost: vpn.example.com\r\nContent-Length: 18446744073709551615\r\n' +
        'SSTPCORRELATIONID: {ABC}\r\nUser-Agent: ua\r\n\r\n',
    );
  });

  it.each([
    [5000, 1000],
    [1500, 300],
    [300, 100],
    [100, 50],
  ])('with a %i ms timeout the disconnect wait is %i ms', (timeout, wait) => {
    expect(disconnectWaitFor(timeout)).toBe(wait);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

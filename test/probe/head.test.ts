import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { issueLeaf } from '../../src/demo/certs.js';
import { SSTP_PATH, type RrasBehaviorInput } from '../../src/demo/fake-rras.js';
import { buildRequest, createHeadProber } from '../../src/probe/head.js';
import { hostHeader } from '../../src/probe/transport.js';

const probeHead = createHeadProber();
import type { ErrorKind, ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import { testCertificates, VPN_HOSTNAME, type TestCertificates } from '../fixtures/certs.js';
import { closeAllRras, probeTarget, startRras } from '../fixtures/fake-rras.js';

const TIMEOUT_MS = 1000;
const MARGIN_MS = 500;

let certs: TestCertificates;

beforeAll(async () => {
  certs = await testCertificates();
});
afterEach(closeAllRras);

/** Probes and checks the promise settled in time, whatever the result. */
async function probe(target: ProbeTarget, signal?: AbortSignal, prober = probeHead): Promise<ProbeResult> {
  const started = performance.now();
  const result = await prober(target, signal);
  const elapsed = performance.now() - started;
  expect(elapsed).toBeLessThan(target.settings.timeoutMs + MARGIN_MS);
  expect(result.durationMs).toBeLessThanOrEqual(Math.ceil(elapsed) + 1);
  expect(result.message).not.toBe('');
  expect(result.ok).toBe(result.errorKind === 'ok');
  return result;
}

async function probeTls(behavior: RrasBehaviorInput, opts: { timeoutMs?: number } = {}): Promise<ProbeResult> {
  const server = await startRras(certs.valid, behavior);
  return probe(probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs: opts.timeoutMs ?? TIMEOUT_MS }));
}

async function probePlain(behavior: RrasBehaviorInput): Promise<ProbeResult> {
  const server = await startRras(null, behavior);
  return probe(probeTarget({ url: server.url, timeoutMs: TIMEOUT_MS }));
}

function expectKind(result: ProbeResult, kind: ErrorKind, message?: string | RegExp): void {
  expect({ kind: result.errorKind, message: result.message }).toMatchObject({ kind });
  if (message) expect(result.message).toMatch(message);
}

describe('probeHead against a healthy RRAS server', () => {
  it('reports ok for 401 on HTTP/1.1, with every phase, the TLS version and the certificate', async () => {
    const result = await probeTls('answer');
    expectKind(result, 'ok', 'HTTP/1.1 401 Unauthorized');
    expect(result.statusCode).toBe(401);
    expect(result.httpVersion).toBe('1.1');
    expect(result.tlsVersion).toBe('TLSv1.3');
    expect(result.phasesMs).toEqual({
      dns: 0,
      connect: expect.any(Number),
      tls: expect.any(Number),
      processing: expect.any(Number),
    });
    expect(result.certificateSha256).toBe(certs.valid.sha256);
    expect(result.certificate).toMatchObject({
      subject: `CN=${VPN_HOSTNAME}, O=Contoso`,
      issuer: 'CN=sstpwatch test CA, O=sstpwatch',
      san: [VPN_HOSTNAME],
      sha256: certs.valid.sha256,
      keyType: 'EC',
      keyBits: 256,
    });
    expect(Math.abs(result.at - Date.now())).toBeLessThan(1000);
  });

  it('rounds durations to 0.1 ms', async () => {
    const result = await probeTls('answer');
    for (const ms of [result.durationMs, ...Object.values(result.phasesMs)]) {
      expect(Math.round(ms * 10) / 10).toBe(ms);
    }
  });

  it('sends exactly the SSTP health check: HEAD on the SSTP path over HTTP/1.1, Host and SNI = the public name', async () => {
    const server = await startRras(certs.valid);
    await probe(probeTarget({ url: server.url, ca: certs.ca.certPem }));
    expect(server.requests).toBe(1);
    expect(server.lastRequest?.raw).toBe(
      `HEAD ${SSTP_PATH} HTTP/1.1\r\nHost: ${VPN_HOSTNAME}:${server.port}\r\nUser-Agent: sstpwatch/0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(server.lastRequest?.servername).toBe(VPN_HOSTNAME);
  });

  it('sends no SNI and checks the IP address when the public name is an IP address', async () => {
    const ipLeaf = await issueLeaf(certs.ca, { commonName: 'rras-1', dnsNames: [], ipAddresses: ['127.0.0.1'] });
    const server = await startRras(ipLeaf);
    const result = await probe(probeTarget({ url: server.url, hostname: '127.0.0.1', ca: certs.ca.certPem }));
    expectKind(result, 'ok');
    expect(server.lastHandshake?.servername).toBeNull();
    expect(server.lastRequest?.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('accepts any status listed in expectStatus', async () => {
    const server = await startRras(certs.valid, 200);
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem, expectStatus: [401, 200] }));
    expectKind(result, 'ok');
  });

  it('reports ok for a plain HTTP 401 from an offloaded server, without TLS fields', async () => {
    const result = await probePlain('answer');
    expectKind(result, 'ok');
    expect(result.phasesMs.tls).toBeUndefined();
    expect(result.phasesMs.processing).toEqual(expect.any(Number));
    expect(result.tlsVersion).toBeNull();
    expect(result.certificate).toBeNull();
    expect(result.certificateSha256).toBeNull();
  });

  it('resolves names with the system resolver (localhost) and times the dns phase', async () => {
    const server = await startRras(certs.valid);
    const result = await probe(probeTarget({ url: `https://localhost:${server.port}`, ca: certs.ca.certPem }));
    expectKind(result, 'ok');
    expect(result.phasesMs.dns).toEqual(expect.any(Number));
    expect(server.lastRequest?.servername).toBe(VPN_HOSTNAME);
  });
});

describe('probeHead when the SSTP listener answers wrongly', () => {
  it.each([404, 503, 200])('reports unexpected_status for %i, with the status code', async (status) => {
    const result = await probeTls(status);
    expectKind(result, 'unexpected_status', `expected 401, got ${status}`);
    expect(result.statusCode).toBe(status);
    expect(result.phasesMs.processing).toEqual(expect.any(Number));
  });

  it('reports http_version for an HTTP/1.0 status line, even with 401', async () => {
    const result = await probeTls({ mode: 'answer', httpVersion: '1.0' });
    expectKind(result, 'http_version', 'expected HTTP/1.1, got HTTP/1.0 401');
    expect(result.statusCode).toBe(401);
    expect(result.httpVersion).toBe('1.0');
  });

  it('reports http_protocol for bytes that are not HTTP', async () => {
    const result = await probeTls('garbage');
    expectKind(result, 'http_protocol', /^not an HTTP response/);
    expect(result.statusCode).toBeNull();
  });

  it('reports http_protocol as soon as the response head exceeds 16 KiB', async () => {
    const result = await probeTls({ mode: 'endless-headers', intervalMs: 1, lineBytes: 4096 });
    expectKind(result, 'http_protocol', 'response headers exceed 16 KiB');
    expect(result.durationMs).toBeLessThan(TIMEOUT_MS);
  });

  it('reports http_protocol when the server closes without answering', async () => {
    const server = await startRras(null, 'close');
    const result = await probe(probeTarget({ url: server.url }));
    expectKind(result, 'http_protocol', /without any response/);
  });
});

describe('probeHead timeouts name the phase the probe was stuck in', () => {
  it('reports timeout when the answer comes after the deadline', async () => {
    const result = await probeTls({ mode: 'answer', delayMs: TIMEOUT_MS + 1000 });
    expectKind(result, 'timeout', 'TLS done, no HTTP response within 1s');
    expect(result.phasesMs.tls).toEqual(expect.any(Number));
    expect(result.phasesMs.processing).toBeUndefined();
  });

  it('reports timeout when TCP is accepted but TLS never starts', async () => {
    const result = await probeTls('accept-stall');
    expectKind(result, 'timeout', 'no TLS handshake within 1s');
    expect(result.phasesMs.connect).toEqual(expect.any(Number));
    expect(result.phasesMs.tls).toBeUndefined();
  });

  it('reports timeout when TLS completes and the server hangs, with the certificate', async () => {
    const result = await probeTls('tls-stall');
    expectKind(result, 'timeout', 'TLS done, no HTTP response within 1s');
    expect(result.certificateSha256).toBe(certs.valid.sha256);
  });

  it('reports timeout when the headers trickle in forever', async () => {
    const result = await probeTls('endless-headers');
    expectKind(result, 'timeout', /^response headers incomplete after 1s/);
  });

  it('reports timeout when an offloaded server never answers', async () => {
    const result = await probePlain('tls-stall');
    expectKind(result, 'timeout', 'connected, no HTTP response within 1s');
  });

  it('reports timeout when DNS never answers', async () => {
    const prober = createHeadProber({ lookup: () => new Promise(() => {}) });
    const result = await probe(probeTarget({ url: 'https://rras-1.example.test', timeoutMs: 500 }), undefined, prober);
    expectKind(result, 'timeout', 'no DNS answer for rras-1.example.test within 500ms');
    expect(result.phasesMs).toEqual({});
  });
});

describe('probeHead when the connection fails', () => {
  it('reports connect_refused when nothing listens', async () => {
    const server = await startRras(certs.valid, 'stopped');
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem }));
    expectKind(result, 'connect_refused', `connection refused by 127.0.0.1:${server.port}`);
    expect(result.phasesMs).toEqual({ dns: 0 });
  });

  it('reports ok again once a stopped server is back on the same port', async () => {
    const server = await startRras(certs.valid, 'stopped');
    await server.setBehavior('answer');
    expectKind(await probe(probeTarget({ url: server.url, ca: certs.ca.certPem })), 'ok');
  });

  it('reports tls_handshake when the server resets during the TLS handshake', async () => {
    const result = await probeTls('reset');
    expectKind(result, 'tls_handshake', /^connection reset by 127\.0\.0\.1:\d+ during the TLS handshake$/);
  });

  it('reports tls_handshake when the server closes during the TLS handshake', async () => {
    const result = await probeTls('close');
    expectKind(result, 'tls_handshake', /during the TLS handshake$/);
  });

  it('reports connect_reset when an offloaded server resets after the request', async () => {
    const result = await probePlain('reset');
    expectKind(result, 'connect_reset', /^connection reset by 127\.0\.0\.1:\d+ after the request/);
  });

  it('reports tls_handshake (wrong version number) for an HTTPS probe against a plain HTTP listener', async () => {
    const server = await startRras(null);
    const result = await probe(probeTarget({ url: server.url.replace('http:', 'https:') }));
    expectKind(result, 'tls_handshake', 'TLS handshake failed: wrong version number');
  });

  it('reports http_protocol for a plain probe against a TLS listener', async () => {
    const server = await startRras(certs.valid);
    const result = await probe(probeTarget({ url: server.url.replace('https:', 'http:') }));
    expectKind(result, 'http_protocol', /without any response/);
  });

  it('reports dns when the name does not resolve', async () => {
    const prober = createHeadProber({
      lookup: async (hostname) => {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
      },
    });
    const result = await probe(probeTarget({ url: 'https://nonexistent.invalid' }), undefined, prober);
    expectKind(result, 'dns', 'cannot resolve nonexistent.invalid: no such name (ENOTFOUND)');
  });

  it('times the dns phase and connects to the address an injected resolver returns', async () => {
    const server = await startRras(certs.valid);
    const prober = createHeadProber({ lookup: async () => ({ address: '127.0.0.1', family: 4 }) });
    const target = probeTarget({ url: `https://rras-1.example.test:${server.port}`, ca: certs.ca.certPem });
    const result = await probe(target, undefined, prober);
    expectKind(result, 'ok');
    expect(result.phasesMs.dns).toEqual(expect.any(Number));
    expect(server.lastRequest?.headers.host).toBe(`${VPN_HOSTNAME}:${server.port}`);
  });
});

describe('probeHead certificate checks', () => {
  const cases: Array<[Exclude<keyof TestCertificates, 'ca' | 'otherCa'>, ErrorKind, RegExp]> = [
    ['expired', 'cert_expired', /^certificate expired on \d{4}-\d\d-\d\dT/],
    ['notYetValid', 'cert_not_yet_valid', /^certificate not valid before \d{4}-/],
    ['wrongName', 'cert_hostname_mismatch', /^certificate is not valid for vpn\.example\.test \(it names other\.example\.test/],
    ['untrusted', 'cert_untrusted', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['selfSigned', 'cert_untrusted', /self-signed/],
    ['noServerAuth', 'cert_untrusted', /Server Authentication EKU/],
  ];

  it.each(cases)('reports %s as %s, with the certificate still filled', async (name, kind, message) => {
    const leaf = certs[name];
    const server = await startRras(leaf);
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem }));
    expectKind(result, kind, message);
    expect(result.certificateSha256).toBe(leaf.sha256);
    expect(result.certificate?.sha256).toBe(leaf.sha256);
    expect(result.tlsVersion).toBe('TLSv1.3');
    expect(server.requests).toBe(0);
  });

  it.each(cases)('accepts %s when verification is off', async (name) => {
    const leaf = certs[name];
    const server = await startRras(leaf);
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem, verify: false }));
    expectKind(result, 'ok');
    expect(result.certificateSha256).toBe(leaf.sha256);
  });

  it('does not trust the test CA without the ca setting', async () => {
    const server = await startRras(certs.valid);
    const result = await probe(probeTarget({ url: server.url }));
    expectKind(result, 'cert_untrusted');
  });

  it('reports ok for a certificate expiring in 10 days', async () => {
    const server = await startRras(certs.expiringIn10Days);
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem }));
    expectKind(result, 'ok');
    expect(result.certificate?.notAfter).toBe(Math.floor(certs.expiringIn10Days.cert.notAfter.getTime() / 1000) * 1000);
  });
});

describe('probeHead and its caller', () => {
  it('stops promptly on an external abort, naming the phase', async () => {
    const server = await startRras(certs.valid, 'accept-stall');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const result = await probe(probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs: 5000 }), controller.signal);
    expect(performance.now() - started).toBeLessThan(100 + MARGIN_MS);
    expectKind(result, 'timeout', 'probe aborted during the TLS handshake');
  });

  it('returns at once for an already aborted signal', async () => {
    const result = await probe(probeTarget({ url: 'https://127.0.0.1:1' }), AbortSignal.abort());
    expectKind(result, 'timeout', 'probe aborted before it started');
  });

  it('never rejects, even for a URL without a host', async () => {
    const result = await probe(probeTarget({ url: 'not a url' }));
    expectKind(result, 'dns', /^invalid target URL/);
  });

  it('leaves no sockets or timers behind', async () => {
    const server = await startRras(certs.valid);
    const baseline = handleCount();
    const target = probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs: 5000 });
    for (const behavior of ['answer', 404, 'reset', 'close', 'garbage', 'tls-stall', 'accept-stall'] as const) {
      await server.setBehavior(behavior);
      await probe(target, AbortSignal.timeout(100));
    }
    await waitFor(() => handleCount() <= baseline, 300);
    expect(handleCount()).toBeLessThanOrEqual(baseline);
  });
});

describe('the fake RRAS server', () => {
  it('closes promptly with stalled clients attached', async () => {
    const server = await startRras(certs.valid, 'accept-stall');
    const clients = await Promise.all([1, 2, 3].map(() => connectRaw(server.port)));
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(200);
    clients.forEach((client) => client.destroy());
  });

  it('answers 404 off the SSTP path, and 401 on its percent-encoded form, as HTTP.sys does', async () => {
    const server = await startRras(certs.valid);
    const target = (path: string) => ({ ...probeTarget({ url: server.url, ca: certs.ca.certPem }), settings: { ...probeTarget({ url: server.url, ca: certs.ca.certPem }).settings, path } });
    expectKind(await probe(target('/')), 'unexpected_status', 'expected 401, got 404');
    expectKind(await probe(target('/sra_%7BBA195980-CD49-458b-9E23-C84EE0ADCD75%7D/')), 'ok');
    expect(server.requests).toBe(2);
  });
});

describe('request helpers', () => {
  it('omits the default port from the Host header and brackets IPv6', () => {
    expect(hostHeader('vpn.example.com', 443, 443)).toBe('vpn.example.com');
    expect(hostHeader('vpn.example.com', 8443, 443)).toBe('vpn.example.com:8443');
    expect(hostHeader('::1', 80, 80)).toBe('[::1]');
  });

  it('builds the F5/Kemp-style request', () => {
    expect(buildRequest(SSTP_PATH, 'vpn.example.com')).toBe(
      `HEAD ${SSTP_PATH} HTTP/1.1\r\nHost: vpn.example.com\r\nUser-Agent: sstpwatch/0.1\r\nConnection: close\r\n\r\n`,
    );
  });
});

afterAll(closeAllRras);

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

function handleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout').length;
}

async function waitFor(condition: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/api/app.js';
import type { ProbeEndpointDeps } from '../../../src/api/routes/probe.js';
import { scrapeTimeout } from '../../../src/api/routes/probe.js';
import { AllowList } from '../../../src/config/allow-list.js';
import { builtInProbeSettings } from '../../../src/config/defaults.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { createHeadProber } from '../../../src/probe/head.js';
import { buildTestApp } from '../../fixtures/app.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';

const appWith = (probeEndpoint: ProbeEndpointDeps | undefined) => buildTestApp({ probeEndpoint });

/** Reads one sample's value from Prometheus text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /probe (Prometheus-driven probes)', () => {
  let healthy: FakeRras;
  let stopped: FakeRras;
  let app: App;

  beforeAll(async () => {
    const certs = await testCertificates();
    healthy = await startRras(certs.valid);
    stopped = await startRras(certs.valid, 404);
    const defaults = builtInProbeSettings();
    defaults.timeoutMs = 2000;
    defaults.tls = { verify: true, caFile: null, ca: certs.ca.certPem };
    app = await appWith({
      enabled: true,
      allowList: new AllowList(['127.0.0.0/8', 'localhost']),
      defaults,
      probe: createHeadProber(),
      resolve: (host) => lookup(host, { family: 4 }),
      rateLimitPerMinute: 100,
    });
  });

  afterAll(async () => {
    await app.close();
    await closeAllRras();
  });

  it("answers with blackbox_exporter's metric names for a healthy SSTP listener", async () => {
    const res = await app.inject({ method: 'GET', url: `/probe?target=${encodeURIComponent(healthy.url)}&hostname=${VPN_HOSTNAME}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(sample(text, 'probe_success')).toBe(1);
    expect(sample(text, 'probe_http_status_code')).toBe(401);
    expect(sample(text, 'probe_http_version')).toBe(1.1);
    expect(sample(text, 'probe_duration_seconds')).toBeGreaterThan(0);
    expect(sample(text, 'probe_http_duration_seconds{phase="tls"}')).toBeGreaterThan(0);
    expect(sample(text, 'probe_ssl_earliest_cert_expiry')).toBeGreaterThan(Date.now() / 1000);
    expect(sample(text, 'probe_tls_version_info{version="TLS 1.3"}')).toBe(1);
    expect(sample(text, 'probe_sstp_error_kind{kind="ok"}')).toBe(1);
    expect(sample(text, 'probe_sstp_error_kind{kind="timeout"}')).toBe(0);
    expect(healthy.lastHandshake?.servername).toBe(VPN_HOSTNAME);
  });

  it('reports probe_success 0 and the error kind when the SSTP listener is stopped', async () => {
    const res = await app.inject({ method: 'GET', url: `/probe?target=${encodeURIComponent(stopped.url)}&hostname=${VPN_HOSTNAME}` });
    expect(res.statusCode).toBe(200);
    expect(sample(res.body, 'probe_success')).toBe(0);
    expect(sample(res.body, 'probe_http_status_code')).toBe(404);
    expect(sample(res.body, 'probe_sstp_error_kind{kind="unexpected_status"}')).toBe(1);
  });

  it('refuses targets outside the allow list, by address and by name, without probing them', async () => {
    const byAddress = await app.inject({ method: 'GET', url: '/probe?target=https://192.0.2.1' });
    expect(byAddress.statusCode).toBe(403);
    expect(byAddress.json()).toEqual({ error: { code: 'forbidden', message: 'target 192.0.2.1 is not allowed by probe_endpoint.allow' } });
    const byName = await app.inject({ method: 'GET', url: '/probe?target=https://unlisted.invalid' });
    expect(byName.statusCode).toBe(403);
  });

  it.each([
    ['', /target/],
    ['?target=vpn3', /target must be an http\(s\) URL/],
    ['?target=ftp://127.0.0.1', /target must be an http\(s\) URL/],
    ['?target=https://127.0.0.1/sra', /the server only/],
    ['?target=https://127.0.0.1&offload=1', /offload=1 probes plain HTTP/],
    ['?target=https://127.0.0.1&offload=maybe', /offload/],
    ['?target=https://127.0.0.1&extra=1', /additional|extra/],
  ])('answers 400 for %s', async (query, message) => {
    const res = await app.inject({ method: 'GET', url: `/probe${query}`, headers: { 'x-forwarded-for': 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(message);
  });

  it.each([
    { case: 'CR LF (header injection, request splitting)', hostname: 'vpn.test\r\nContent-Length: 0\r\n\r\nDELETE /admin HTTP/1.1' },
    { case: 'a bare LF', hostname: 'vpn.test\nX-Injected: 1' },
    { case: 'a NUL', hostname: 'vpn.test\u0000' },
    { case: 'a space', hostname: 'a b' },
    { case: 'a port, user and path', hostname: 'evil.com:80@x/' },
    { case: 'an underscore label', hostname: 'bad_name.test' },
  ])('answers 400 for a hostname with $case, without probing', async ({ hostname }) => {
    const before = healthy.connections;
    const query = new URLSearchParams({ target: healthy.url, hostname });
    const res = await app.inject({ method: 'GET', url: `/probe?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/^hostname must be a DNS name or an IP address \(got /);
    expect(healthy.connections).toBe(before);
  });

  it('takes a hostname that is a DNS name or an address', async () => {
    for (const hostname of [VPN_HOSTNAME, '127.0.0.1', '::1']) {
      const query = new URLSearchParams({ target: healthy.url, hostname });
      expect((await app.inject({ method: 'GET', url: `/probe?${query}` })).statusCode).toBe(200);
    }
  });

  it("obeys Prometheus' scrape timeout header", () => {
    expect(scrapeTimeout(undefined, 5000)).toBe(5000);
    expect(scrapeTimeout('10', 5000)).toBe(5000);
    expect(scrapeTimeout('2', 5000)).toBe(1500);
    expect(scrapeTimeout('0.2', 5000)).toBe(100);
    expect(() => scrapeTimeout('soon', 5000)).toThrow(/invalid x-prometheus-scrape-timeout-seconds/);
  });

  it('is disabled unless configured', async () => {
    const disabled = await appWith(undefined);
    const res = await disabled.inject({ method: 'GET', url: `/probe?target=${encodeURIComponent(healthy.url)}` });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/probe_endpoint.enabled: true/);
    await disabled.close();
  });

  it('is rate limited per client', async () => {
    const limited = await appWith({
      enabled: true,
      allowList: new AllowList(['127.0.0.0/8']),
      defaults: builtInProbeSettings(),
      probe: createHeadProber(),
      resolve: (host) => lookup(host),
      rateLimitPerMinute: 2,
    });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await limited.inject({ method: 'GET', url: '/probe?target=https://192.0.2.1' })).statusCode);
    expect(codes).toEqual([403, 403, 429, 429]);
    const body = (await limited.inject({ method: 'GET', url: '/probe?target=https://192.0.2.1' })).json();
    expect(body.error.code).toBe('rate_limited');
    await limited.close();
  });
});

import { describe, expect, it } from 'vitest';
import { diagnose, type Diagnosis } from '../../src/probe/diagnose.js';
import { ERROR_KINDS, type ErrorKind, type ProbeResult } from '../../src/probe/types.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const thresholds = { certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1_000 };
const tlsCtx = { url: 'https://10.0.0.11', hostname: 'vpn.example.com', offload: false, now: NOW, thresholds };
const plainCtx = { url: 'http://10.0.0.12:80', hostname: 'vpn.example.com', offload: true, now: NOW, thresholds };

const allPhases = { dns: 0, connect: 0.4, tls: 6.2, processing: 5.7 };

function result(errorKind: ErrorKind, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    at: NOW,
    ok: errorKind === 'ok',
    errorKind,
    message: 'x',
    statusCode: null,
    httpVersion: null,
    durationMs: 12.3,
    phasesMs: {},
    tlsVersion: null,
    certificateSha256: null,
    certificate: null,
    ...over,
  };
}

const certificate = (notAfter: number) => ({
  subject: 'CN=vpn.example.com',
  issuer: 'CN=R3, O=Let\'s Encrypt, C=US',
  san: ['vpn.example.com'],
  notBefore: NOW - 30 * DAY,
  notAfter,
  sha256: 'AB',
  keyType: 'EC',
  keyBits: 256,
});

describe('diagnose', () => {
  it.each(ERROR_KINDS)('explains %s in words an admin can act on', (kind) => {
    const d = diagnose(result(kind, { statusCode: 404, httpVersion: '1.1', phasesMs: allPhases }), tlsCtx);
    expect(d.verdict).toBe(kind === 'ok' ? 'up' : 'down');
    expect(d.headline).not.toBe('');
    expect(d.explanation).not.toBe('');
    if (kind !== 'ok') expect(d.fix).toBeTruthy();
    if (kind !== 'ok') expect(d.phase).not.toBeNull();
  });

  type Case = [string, ProbeResult, typeof tlsCtx, Partial<Diagnosis>, RegExp];
  const cases: Case[] = [
    ['ok', result('ok', { statusCode: 401, phasesMs: allPhases, certificate: certificate(NOW + 200 * DAY) }), tlsCtx,
      { verdict: 'up', phase: null, fix: null, headline: 'SSTP listener answers 401 on HTTP/1.1' }, /healthy/],
    ['ok, certificate expiring in 10 days', result('ok', { statusCode: 401, certificate: certificate(NOW + 10 * DAY + 1000) }), tlsCtx,
      { verdict: 'up', phase: 'certificate', headline: 'SSTP listener answers 401 on HTTP/1.1; certificate expires in 10 days (warning: under 21 days)' }, /0x800B0101/],
    ['404', result('unexpected_status', { statusCode: 404 }), tlsCtx,
      { phase: 'http', headline: 'SSTP listener not bound: HTTP.sys answers 404' }, /RRAS service|Remote Access service is stopped/],
    ['503', result('unexpected_status', { statusCode: 503 }), tlsCtx, { phase: 'http' }, /URL reservation/],
    ['200', result('unexpected_status', { statusCode: 200 }), tlsCtx, { phase: 'http' }, /other than RRAS|something else/],
    ['502', result('unexpected_status', { statusCode: 502 }), tlsCtx, { headline: 'a proxy answers 502' }, /load balancer/],
    ['HTTP/1.0', result('http_version', { statusCode: 401, httpVersion: '1.0' }), tlsCtx,
      { headline: 'answered HTTP/1.0: not HTTP.sys' }, /HTTP\/1\.1/],
    ['plain probe, TLS answer', result('http_protocol', { message: 'not an HTTP response: a TLS alert record (15 03)' }), plainCtx,
      { phase: 'http', headline: 'this port expects TLS' }, /not offloaded/],
    ['plain probe, silent close', result('http_protocol', { message: 'connection closed by 10.0.0.12:80 without any response' }), plainCtx,
      { headline: 'this port expects TLS' }, /expects TLS/],
    ['TLS probe, garbage', result('http_protocol', { message: 'not an HTTP response: 00 01' }), tlsCtx,
      { headline: 'not an HTTP response' }, /does not speak HTTP/],
    ['timeout in DNS', result('timeout', { phasesMs: {} }), tlsCtx, { phase: 'dns' }, /DNS servers/],
    ['timeout connecting', result('timeout', { phasesMs: { dns: 0 } }), tlsCtx,
      { phase: 'connect', headline: 'no TCP connection to 10.0.0.11:443' }, /host is down or a firewall silently drops TCP 443/],
    ['timeout in TLS', result('timeout', { phasesMs: { dns: 0, connect: 1 } }), tlsCtx,
      { phase: 'tls', headline: 'TCP accepted, no TLS handshake' }, /ClientHello/],
    ['timeout after TLS', result('timeout', { phasesMs: { dns: 0, connect: 1, tls: 3 } }), tlsCtx,
      { phase: 'http', headline: 'server hung: TLS done, no HTTP response' }, /hung/],
    ['timeout of an offloaded server', result('timeout', { phasesMs: { dns: 0, connect: 1 } }), plainCtx,
      { phase: 'http', headline: 'server hung: connected, no HTTP response' }, /hung/],
    ['aborted', result('timeout', { message: 'probe aborted during the TLS handshake', phasesMs: { dns: 0, connect: 1 } }), tlsCtx,
      { headline: 'probe cancelled', fix: null }, /cancelled/],
    ['dns', result('dns', { message: 'cannot resolve vpn.example.com: no such name (ENOTFOUND)' }),
      { ...tlsCtx, url: 'https://vpn.example.com' }, { phase: 'dns', headline: 'vpn.example.com does not resolve' }, /no address/],
    ['refused', result('connect_refused', { phasesMs: { dns: 0 } }), tlsCtx,
      { phase: 'connect', headline: 'connection refused on 10.0.0.11:443' }, /nothing accepts TCP 443/],
    ['reset while connecting', result('connect_reset', { phasesMs: { dns: 0 } }), tlsCtx, { phase: 'connect' }, /firewall/],
    ['reset after a plain request', result('connect_reset', { phasesMs: { dns: 0, connect: 1 } }), plainCtx,
      { phase: 'http' }, /not offloaded/],
    ['network', result('network', { phasesMs: { dns: 0 } }), tlsCtx, { phase: 'connect' }, /no route/],
    ['wrong version number', result('tls_handshake', { message: 'TLS handshake failed: wrong version number' }), tlsCtx,
      { phase: 'tls', headline: 'this port speaks plain HTTP, not TLS' }, /offloaded at the load balancer/],
    ['reset during TLS', result('tls_handshake', { message: 'connection reset by 10.0.0.11:443 during the TLS handshake' }), tlsCtx,
      { phase: 'tls', headline: 'TLS handshake cut off' }, /no certificate binding/],
    ['protocol version', result('tls_handshake', { message: 'TLS handshake failed: tlsv1 alert protocol version' }), tlsCtx,
      { headline: 'no common TLS version or cipher' }, /TLS 1\.2/],
    ['expired', result('cert_expired', { message: 'certificate expired on 2026-05-01T00:00:00.000Z' }), tlsCtx,
      { phase: 'certificate' }, /0x800B0101/],
    ['not yet valid', result('cert_not_yet_valid'), tlsCtx, { phase: 'certificate' }, /clock/],
    ['name mismatch', result('cert_hostname_mismatch'), tlsCtx,
      { phase: 'certificate', headline: 'certificate does not carry vpn.example.com' }, /bound to SSTP does not carry the public name vpn\.example\.com/],
    ['incomplete chain', result('cert_untrusted', { message: 'certificate issuer neither sent by the server nor trusted: CN=X (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' }), tlsCtx,
      { headline: 'certificate chain incomplete or untrusted' }, /intermediate/],
    ['self-signed', result('cert_untrusted', { message: 'certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)' }), tlsCtx,
      { headline: 'self-signed certificate' }, /every one of them/],
    ['no EKU', result('cert_untrusted', { message: 'certificate is not valid for server authentication: no Server Authentication EKU (INVALID_PURPOSE)' }), tlsCtx,
      { headline: 'certificate lacks the Server Authentication EKU' }, /EKU/],
    ['untrusted', result('cert_untrusted', { message: 'certificate chain ends in an untrusted root (SELF_SIGNED_CERT_IN_CHAIN)' }), tlsCtx,
      { headline: 'certificate not trusted' }, /refuse/],
  ];

  it.each(cases)('%s', (_name, r, ctx, expected, explanation) => {
    const d = diagnose(r, ctx);
    expect(d).toMatchObject(expected);
    expect(d.explanation).toMatch(explanation);
  });

  it.each<[string, Partial<typeof thresholds>, number, Diagnosis['phase']]>([
    ['25 days left, warn_days 21', {}, 25, null],
    ['25 days left, warn_days 30', { certificates: { warnDays: 30, criticalDays: 7 } }, 25, 'certificate'],
    ['10 days left, warn_days 5 critical_days 2', { certificates: { warnDays: 5, criticalDays: 2 } }, 10, null],
  ])("follows the target's certificate thresholds: %s", (_what, over, days, phase) => {
    const r = result('ok', { statusCode: 401, certificate: certificate(NOW + days * DAY + 1000) });
    expect(diagnose(r, { ...tlsCtx, thresholds: { ...thresholds, ...over } }).phase).toBe(phase);
  });

  it('calls an up target slow above its slow_threshold, and not below', () => {
    const slow = result('ok', { statusCode: 401, durationMs: 1_500 });
    expect(diagnose(slow, tlsCtx)).toMatchObject({ verdict: 'up', phase: 'slow', headline: 'SSTP listener answers 401 on HTTP/1.1, but slowly: 1.5 s (slow above 1 s)' });
    expect(diagnose(slow, { ...tlsCtx, thresholds: { ...thresholds, slowThresholdMs: 2_000 } }).phase).toBeNull();
  });

  it('tells how to fix a name mismatch with netsh', () => {
    expect(diagnose(result('cert_hostname_mismatch'), tlsCtx).fix).toMatch(/netsh http show sslcert/);
  });

  it('tells to drop offload when a plain probe meets TLS, and to use offload when TLS meets plain HTTP', () => {
    expect(diagnose(result('http_protocol', { message: 'connection closed by x without any response' }), plainCtx).fix).toMatch(/https:\/\//);
    expect(diagnose(result('tls_handshake', { message: 'TLS handshake failed: wrong version number' }), tlsCtx).fix).toMatch(/http:\/\/ URL \(offload\)/);
  });
});

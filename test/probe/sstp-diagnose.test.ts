import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/probe/diagnose.js';
import { describeSstpStages, diagnoseSstp } from '../../src/probe/sstp-diagnose.js';
import type { ErrorKind, ProbeResult, SstpDetails } from '../../src/probe/types.js';

const NOW = Date.UTC(2026, 10, 26, 21, 0, 0);
const DAY = 86_400_000;

function deep(errorKind: ErrorKind, sstp: Partial<SstpDetails>, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    at: NOW, ok: errorKind === 'ok', errorKind, message: 'm', statusCode: 200, httpVersion: '1.1', durationMs: 5,
    phasesMs: { dns: 0, connect: 1, tls: 2, processing: 1 }, tlsVersion: 'TLSv1.3', certificateSha256: null, certificate: null,
    sstp: {
      stageReached: 'disconnect_ack', reply: 'ack', stagesMs: { http: 1, call: 1, disconnect: 1 }, hashBitmask: 2, status: null,
      disconnectSent: true, disconnectAcked: true, abortSent: false, warning: null, correlationId: 'ABC', ...sstp,
    },
    ...over,
  };
}

const ctx = { url: 'https://10.0.0.11', hostname: 'vpn.example.com', offload: false, now: NOW, thresholds: { certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1_000 } };

describe('diagnosing a deep SSTP check', () => {
  it.each<[string, ProbeResult, RegExp]>([
    ['no answer to the POST', deep('sstp_no_response', { stageReached: 'transport', reply: null }, { statusCode: null }), /no answer to SSTP_DUPLEX_POST/],
    ['no answer to the call', deep('sstp_no_response', { stageReached: 'http', reply: null }), /no answer to Call Connect Request/],
    ['a 503 to the POST', deep('sstp_http_status', { stageReached: 'transport', reply: null }, { statusCode: 503 }), /answered 503/],
    ['a 404 to the POST', deep('sstp_http_status', { stageReached: 'transport', reply: null }, { statusCode: 404 }), /SSTP listener not bound/],
    ['a Nak', deep('sstp_nak', { reply: 'nak', status: { code: 4, attributeId: 1 } }), /call refused \(Call Connect Nak: value not supported \(4\) for Encapsulated Protocol ID\)/],
    ['a drop right after the Ack', deep('sstp_abort', {}, { message: 'server sent Call Disconnect right after its Call Connect Ack' }), /call dropped right after the Call Connect Ack/],
    ['an Abort', deep('sstp_abort', { reply: 'abort' }, { message: 'server ended the call with Call Abort instead of an Ack' }), /call aborted by the server/],
    ['a malformed packet', deep('sstp_bad_frame', { reply: null }), /not SSTP: malformed packet/],
    ['no usable hash protocol', deep('sstp_no_sha256', { hashBitmask: 0 }), /no usable crypto binding/],
  ])('%s: a headline, an explanation and a fix, in the sstp phase', (_name, result, headline) => {
    const d = diagnose(result, ctx);
    expect(d).toMatchObject({ verdict: 'down', phase: 'sstp' });
    expect(d.headline).toMatch(headline);
    expect(d.explanation).not.toBe('');
    expect(d.fix).toBeTruthy();
  });

  it('an accepted call is up, unless the certificate is about to expire: that warning wins', () => {
    expect(diagnose(deep('ok', {}), ctx)).toMatchObject({ verdict: 'up', phase: null, headline: /SSTP call accepted/ });
    const cert = { subject: 'CN=vpn.example.com', issuer: 'CN=CA', san: ['vpn.example.com'], notBefore: NOW - DAY, notAfter: NOW + 5 * DAY + 1000, sha256: 'AB', keyType: 'EC', keyBits: 256 };
    expect(diagnose(deep('ok', {}, { certificate: cert }), ctx)).toMatchObject({ verdict: 'up', phase: 'certificate', headline: /expires in 5 days/ });
  });

  it('calls a SHA-1-only offer up (the call was accepted), explaining the SHA-1 risk and the fix', () => {
    const d = diagnose(deep('ok', { hashBitmask: 1, warning: 'the server offers only SHA-1' }), ctx);
    expect(d).toMatchObject({ verdict: 'up', headline: /SSTP call accepted, but the crypto binding offered is SHA-1 only/ });
    expect(d.explanation).toMatch(/practical collision attacks/);
    expect(d.fix).toMatch(/SHA-256/);
  });

  it('leaves failures before the SSTP part (TLS, certificates) to the HEAD diagnosis', () => {
    expect(diagnoseSstp(deep('tls_handshake', { stageReached: 'none', reply: null }))).toBeNull();
  });

  it('lists the stages reached, and stops at the first that failed', () => {
    const lines = describeSstpStages(deep('sstp_http_status', { stageReached: 'transport', reply: null, disconnectSent: false, disconnectAcked: false }, { statusCode: 503 }), { plainHttp: false });
    expect(lines).toEqual(['  1 ok   transport: TCP + TLSv1.3', '  2 FAIL SSTP_DUPLEX_POST -> HTTP/1.1 503 (1.0 ms)']);
  });

  it('names the transport that was asked for: an https target whose TLS failed is not "plain HTTP"', () => {
    const failed = deep('connect_refused', { stageReached: 'none', reply: null, disconnectSent: false, disconnectAcked: false }, { tlsVersion: null });
    expect(describeSstpStages(failed, { plainHttp: false })).toEqual(['  1 FAIL transport: TCP + TLS (no handshake)']);
    expect(describeSstpStages(failed, { plainHttp: true })).toEqual(['  1 FAIL transport: TCP (plain HTTP, TLS offloaded)']);
  });
});

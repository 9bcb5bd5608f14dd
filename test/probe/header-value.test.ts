import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unsafeRequestHead } from '../../src/probe/header-value.js';
import { createHeadProber } from '../../src/probe/head.js';
import { createSstpProber } from '../../src/probe/sstp.js';
import { testCertificates, VPN_HOSTNAME, type TestCertificates } from '../fixtures/certs.js';
import { closeAllRras, probeTarget, startRras } from '../fixtures/fake-rras.js';

describe('unsafeRequestHead', () => {
  it.each<{ case: string; fields: Record<string, string>; problem: string | null }>([
    { case: 'ordinary values', fields: { path: '/sra_{x}/', Host: 'vpn.example.com:8443', 'User-Agent': 'sstpwatch/0.1' }, problem: null },
    { case: 'no values', fields: {}, problem: null },
    { case: 'CR LF in the Host header', fields: { path: '/', Host: 'vpn.test\r\nContent-Length: 0\r\n\r\nDELETE /admin HTTP/1.1' }, problem: 'Host' },
    { case: 'a bare LF', fields: { Host: 'vpn.test\nX: 1' }, problem: 'Host' },
    { case: 'a bare CR', fields: { Host: 'vpn.test\rX: 1' }, problem: 'Host' },
    { case: 'a NUL', fields: { Host: 'vpn.test\0' }, problem: 'Host' },
    { case: 'CR LF in the path', fields: { path: '/x HTTP/1.1\r\nHost: other\r\n\r\n' }, problem: 'path' },
    { case: 'the first bad field of several', fields: { path: '/\n', Host: 'a\r' }, problem: 'path' },
  ])('$case: $problem', ({ fields, problem }) => {
    const answer = unsafeRequestHead(fields);
    if (problem === null) expect(answer).toBeNull();
    else expect(answer).toBe(`refused to send the request: its ${problem} contains a CR, LF or NUL character (request splitting)`);
  });

  it('never echoes the value it refuses', () => {
    expect(unsafeRequestHead({ Host: 'vpn.test\r\nX-Secret: hunter2' })).not.toContain('hunter2');
  });
});

describe('the probes refuse to send a request head that would split', () => {
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await testCertificates();
  });
  afterEach(closeAllRras);

  it.each([
    { probe: 'HEAD', prober: createHeadProber() },
    { probe: 'deep SSTP', prober: createSstpProber() },
  ])('the $probe probe: a host name with CR LF ends as monitor_error before any connection', async ({ prober }) => {
    const server = await startRras(certs.valid);
    const injected = `${VPN_HOSTNAME}\r\nContent-Length: 0\r\n\r\nDELETE /admin HTTP/1.1\r\nX:`;
    const result = await prober(probeTarget({ url: server.url, hostname: injected, ca: certs.ca.certPem }));
    expect(result.errorKind).toBe('monitor_error');
    expect(result.message).toContain('its Host header contains a CR, LF or NUL character');
    expect(server.connections).toBe(0);
    expect(server.requests).toBe(0);
  });
});

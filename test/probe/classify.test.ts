import { describe, expect, it } from 'vitest';
import {
  certificateErrorKind,
  classifyError,
  describeBytes,
  describeCertificateError,
  describeProbeError,
  describeUnexpectedStatus,
  describeTimeout,
  formatTimeout,
  parseResponseHead,
  type ProbeStage,
} from '../../src/probe/classify.js';
import type { CertificateInfo, ErrorKind } from '../../src/probe/types.js';

const err = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code} test error`), { code, ...extra });

describe('classifyError', () => {
  const table: Array<[string, unknown, ProbeStage, ErrorKind]> = [
    ['ENOTFOUND', err('ENOTFOUND'), 'dns', 'dns'],
    ['EAI_AGAIN', err('EAI_AGAIN'), 'dns', 'dns'],
    ['any error while resolving', new Error('boom'), 'dns', 'dns'],
    ['ECONNREFUSED', err('ECONNREFUSED', { syscall: 'connect' }), 'connect', 'connect_refused'],
    ['ECONNRESET while connecting', err('ECONNRESET', { syscall: 'read' }), 'connect', 'connect_reset'],
    ['ECONNRESET during the TLS handshake', err('ECONNRESET', { syscall: 'read' }), 'tls', 'tls_handshake'],
    ['socket closed before TLS was established', err('ECONNRESET'), 'tls', 'tls_handshake'],
    ['ECONNRESET after the request', err('ECONNRESET', { syscall: 'read' }), 'http', 'connect_reset'],
    ['EPIPE after the request', err('EPIPE', { syscall: 'write' }), 'http', 'connect_reset'],
    ['EPIPE during the TLS handshake', err('EPIPE'), 'tls', 'tls_handshake'],
    ['ECONNABORTED', err('ECONNABORTED'), 'connect', 'connect_reset'],
    ['EHOSTUNREACH', err('EHOSTUNREACH'), 'connect', 'network'],
    ['ENETUNREACH', err('ENETUNREACH'), 'connect', 'network'],
    ['EHOSTDOWN', err('EHOSTDOWN'), 'connect', 'network'],
    ['EADDRNOTAVAIL', err('EADDRNOTAVAIL'), 'connect', 'network'],
    ['ETIMEDOUT from the kernel', err('ETIMEDOUT'), 'connect', 'timeout'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', err('ERR_SSL_WRONG_VERSION_NUMBER', { library: 'SSL routines' }), 'tls', 'tls_handshake'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', err('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), 'tls', 'tls_handshake'],
    ['a TLS alert after the handshake', err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), 'http', 'tls_handshake'],
    ['EPROTO (older Node TLS errors)', err('EPROTO'), 'tls', 'tls_handshake'],
    ['an OpenSSL error without a code', Object.assign(new Error('x'), { library: 'SSL routines' }), 'tls', 'tls_handshake'],
    ['CERT_HAS_EXPIRED', err('CERT_HAS_EXPIRED'), 'tls', 'cert_expired'],
    ['CERT_NOT_YET_VALID', err('CERT_NOT_YET_VALID'), 'tls', 'cert_not_yet_valid'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', err('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls', 'cert_untrusted'],
    ['SELF_SIGNED_CERT_IN_CHAIN', err('SELF_SIGNED_CERT_IN_CHAIN'), 'tls', 'cert_untrusted'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls', 'cert_untrusted'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', err('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), 'tls', 'cert_untrusted'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', err('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls', 'cert_hostname_mismatch'],
    ['unknown error while connecting', new Error('weird'), 'connect', 'network'],
    ['unknown error during TLS', new Error('weird'), 'tls', 'tls_handshake'],
    ['unknown error after the request', new Error('weird'), 'http', 'network'],
    ['a thrown string', 'boom', 'http', 'network'],
    ['null', null, 'connect', 'network'],
    ['EMFILE while connecting: sstpwatch out of descriptors', err('EMFILE', { syscall: 'connect' }), 'connect', 'monitor_error'],
    ['EMFILE while resolving', err('EMFILE'), 'dns', 'monitor_error'],
    ['ENFILE: the system out of descriptors', err('ENFILE'), 'connect', 'monitor_error'],
    ['ENOBUFS', err('ENOBUFS'), 'http', 'monitor_error'],
    ['ENOMEM during TLS', err('ENOMEM'), 'tls', 'monitor_error'],
  ];

  it.each(table)('%s -> %s', (_name, error, stage, kind) => {
    expect(classifyError(error, stage)).toBe(kind);
  });
});

describe('certificateErrorKind', () => {
  it.each([
    ['CERT_HAS_EXPIRED', 'cert_expired'],
    ['CERT_NOT_YET_VALID', 'cert_not_yet_valid'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'cert_hostname_mismatch'],
    ['HOSTNAME_MISMATCH', 'cert_hostname_mismatch'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'cert_untrusted'],
    ['INVALID_PURPOSE', 'cert_untrusted'],
    ['CERT_REVOKED', 'cert_untrusted'],
    ['SOMETHING_NEW', 'cert_untrusted'],
  ])('%s -> %s', (code, kind) => {
    expect(certificateErrorKind(code)).toBe(kind);
  });
});

describe('describeProbeError', () => {
  const peer = '10.0.0.11:443';
  it.each<[string, unknown, ProbeStage, string]>([
    ['refused', err('ECONNREFUSED', { syscall: 'connect' }), 'connect', 'connection refused by 10.0.0.11:443'],
    ['reset in TLS', err('ECONNRESET', { syscall: 'read' }), 'tls', 'connection reset by 10.0.0.11:443 during the TLS handshake'],
    ['closed in TLS', err('ECONNRESET'), 'tls', 'connection closed by 10.0.0.11:443 during the TLS handshake'],
    ['reset after request', err('ECONNRESET', { syscall: 'read' }), 'http', 'connection reset by 10.0.0.11:443 after the request, before any response'],
    ['unreachable', err('EHOSTUNREACH'), 'connect', 'no route to host 10.0.0.11:443 (EHOSTUNREACH)'],
    ['net unreachable', err('ENETUNREACH'), 'connect', 'network unreachable for 10.0.0.11:443 (ENETUNREACH)'],
    ['dns', err('ENOTFOUND'), 'dns', 'cannot resolve vpn.example.com: no such name (ENOTFOUND)'],
    ['dns again', err('EAI_AGAIN'), 'dns', 'cannot resolve vpn.example.com: DNS server not answering or temporary failure (EAI_AGAIN)'],
    ['openssl reason', err('ERR_SSL_WRONG_VERSION_NUMBER', { reason: 'wrong version number' }), 'tls', 'TLS handshake failed: wrong version number'],
    [
      'openssl message only',
      Object.assign(new Error('C0:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol:../ssl.c:1'), { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }),
      'tls',
      'TLS handshake failed: unsupported protocol',
    ],
    ['unknown', new Error('weird'), 'http', 'the wait for the HTTP response failed: weird'],
    [
      'out of descriptors',
      err('EMFILE', { syscall: 'connect' }),
      'connect',
      'sstpwatch could not probe: the sstpwatch process is out of file descriptors (EMFILE during the TCP connect); this says nothing about the target',
    ],
  ])('%s', (_name, error, stage, message) => {
    expect(describeProbeError(error, stage, peer, 'vpn.example.com')).toBe(message);
  });
});

describe('describeCertificateError', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const cert: CertificateInfo = {
    subject: 'CN=other.example.com',
    issuer: 'CN=Contoso Issuing CA, O=Contoso',
    san: ['other.example.com', '10.0.0.11'],
    notBefore: Date.parse('2026-01-01T00:00:00Z'),
    notAfter: Date.parse('2026-03-01T00:00:00Z'),
    sha256: 'AB',
    keyType: 'EC',
    keyBits: 256,
  };
  it.each<[string, CertificateInfo | null, string]>([
    ['CERT_HAS_EXPIRED', cert, 'certificate expired on 2026-03-01T00:00:00.000Z'],
    ['CERT_HAS_EXPIRED', { ...cert, notAfter: now + 1 }, 'a certificate in the chain has expired'],
    ['CERT_NOT_YET_VALID', { ...cert, notBefore: Date.parse('2026-07-01T00:00:00Z') }, 'certificate not valid before 2026-07-01T00:00:00.000Z'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', cert, 'certificate is not valid for vpn.example.com (it names other.example.com, 10.0.0.11)'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', { ...cert, san: [] }, 'certificate is not valid for vpn.example.com (it names CN=other.example.com)'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', cert, 'certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', cert, 'certificate issuer not trusted: CN=Contoso Issuing CA, O=Contoso (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)'],
    ['INVALID_PURPOSE', cert, 'certificate is not valid for server authentication: no Server Authentication EKU (INVALID_PURPOSE)'],
    ['CERT_SIGNATURE_FAILURE', null, 'certificate not trusted (CERT_SIGNATURE_FAILURE)'],
  ])('%s', (code, info, message) => {
    expect(describeCertificateError(code, info, 'vpn.example.com', now)).toBe(message);
  });
});

describe('describeTimeout', () => {
  const ctx = { host: 'vpn.example.com', peer: '10.0.0.11:443', offload: false, responseBytes: 0 };
  it.each<[ProbeStage, Partial<typeof ctx>, string]>([
    ['dns', {}, 'no DNS answer for vpn.example.com within 5s'],
    ['connect', {}, 'no TCP connection to 10.0.0.11:443 within 5s'],
    ['tls', {}, 'no TLS handshake within 5s'],
    ['http', {}, 'TLS done, no HTTP response within 5s'],
    ['http', { offload: true }, 'connected, no HTTP response within 5s'],
    ['http', { responseBytes: 120 }, 'response headers incomplete after 5s (120 bytes)'],
  ])('%s %j', (stage, extra, message) => {
    expect(describeTimeout(stage, 5000, { ...ctx, ...extra })).toBe(message);
  });
});

describe('small formatters', () => {
  it('describes the expected statuses', () => {
    expect(describeUnexpectedStatus([401], 404)).toBe('expected 401, got 404');
    expect(describeUnexpectedStatus([401, 200], 503)).toBe('expected 401 or 200, got 503');
    expect(describeUnexpectedStatus([401, 200, 302], 503)).toBe('expected 401, 200 or 302, got 503');
  });

  it.each([
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [5000, '5s'],
    [30_000, '30s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatTimeout(ms)).toBe(text);
  });

  it('describes bytes that are not HTTP', () => {
    expect(describeBytes(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))).toBe('a TLS alert record (15 03 03 00 02 02 46)');
    expect(describeBytes(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'))).toBe('"SSH-2.0-OpenSSH_9.6\\r\\n"');
    expect(describeBytes(Buffer.from([0x00, 0xff, 0x10]))).toBe('00 ff 10');
  });
});

describe('parseResponseHead', () => {
  const complete = (text: string) => {
    const parsed = parseResponseHead(Buffer.from(text, 'latin1'));
    if (parsed.state !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(parsed)}`);
    return parsed.head;
  };

  it('parses the status line and headers of HTTP.sys', () => {
    const head = complete(
      'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nServer: Microsoft-HTTPAPI/2.0\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n',
    );
    expect(head).toEqual({
      httpVersion: '1.1',
      statusCode: 401,
      reason: 'Unauthorized',
      headers: { 'content-length': '0', server: 'Microsoft-HTTPAPI/2.0', 'set-cookie': 'a, b' },
    });
  });

  it.each([
    ['HTTP/1.0 401 Unauthorized\r\n\r\n', '1.0', 401, 'Unauthorized'],
    ['HTTP/1.1 404\r\n\r\n', '1.1', 404, ''],
    ['HTTP/1.1 503 Service Unavailable\n\n', '1.1', 503, 'Service Unavailable'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', '1.1', 200, 'OK'],
  ])('parses %j', (text, httpVersion, statusCode, reason) => {
    expect(complete(text)).toMatchObject({ httpVersion, statusCode, reason });
  });

  it.each(['', 'H', 'HTTP/1.1 40', 'HTTP/1.1 401 Unauthorized\r\nServer: Micro'])('waits for more after %j', (text) => {
    expect(parseResponseHead(Buffer.from(text)).state).toBe('incomplete');
  });

  it.each([
    ['\x16\x03\x03\x00\x02', /^not an HTTP response: a TLS handshake record/],
    ['<html>', /^not an HTTP response: "<html>"/],
    ['http/1.1 401', /^not an HTTP response/],
    ['HTTP/1.1 4011 Unauthorized\r\n', /^malformed status line/],
    ['HTTP/x 401\r\n', /^malformed status line/],
    ['HTTP/1.1 401 Unauthorized\r\nno colon here\r\n\r\n', /^malformed header line: "no colon here"/],
  ])('rejects %j', (text, reason) => {
    const parsed = parseResponseHead(Buffer.from(text, 'latin1'));
    expect(parsed.state).toBe('invalid');
    expect(parsed.state === 'invalid' && parsed.reason).toMatch(reason);
  });

  it('rejects a head beyond the limit before it ends', () => {
    const text = `HTTP/1.1 401 Unauthorized\r\n${'X-Pad: aaaaaaaaaaaaaaaa\r\n'.repeat(1000)}`;
    expect(parseResponseHead(Buffer.from(text), 16 * 1024)).toEqual({ state: 'invalid', reason: 'response headers exceed 16 KiB' });
    expect(parseResponseHead(Buffer.from(`${text}\r\n`), 16 * 1024).state).toBe('invalid');
  });

  // The parse the hand-written scanner replaced (split on CRLF or LF, a pattern per header line): the reference its
  // answers are compared with on heads built from every awkward piece below, cut at every length.
  const referenceParse = (data: Buffer, maxBytes: number): unknown => {
    const statusPattern = /^HTTP\/(\d(?:\.\d)?) ([1-9]\d\d)(?:[ \t]([^\r\n]*))?$/;
    const headerPattern = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
    const prefix = Math.min(data.length, 5);
    if (data.compare(Buffer.from('HTTP/'), 0, prefix, 0, prefix) !== 0) return 'not http';
    const window = data.subarray(0, maxBytes + 4);
    const candidates = [window.indexOf('\r\n\r\n'), window.indexOf('\n\n')].map((i, k) => (i === -1 ? -1 : i + (k ? 2 : 4))).filter((i) => i !== -1);
    const end = candidates.length ? Math.min(...candidates) : -1;
    if (end === -1) {
      if (data.length > maxBytes) return 'too long';
      const lf = data.indexOf(0x0a);
      if (lf !== -1 && !statusPattern.test(data.toString('latin1', 0, lf).replace(/\r$/, ''))) return 'bad status';
      return 'incomplete';
    }
    const lines = data.toString('latin1', 0, end).split(/\r?\n/).slice(0, -2);
    const status = statusPattern.exec(lines[0]!);
    if (!status) return 'bad status';
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const header = headerPattern.exec(line);
      if (!header) return `bad header ${JSON.stringify(line)}`;
      const name = header[1]!.toLowerCase();
      headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${header[2]}` : header[2]!;
    }
    return { httpVersion: status[1], statusCode: Number(status[2]), reason: status[3] ?? '', headers, length: end };
  };
  const summary = (parsed: ReturnType<typeof parseResponseHead>): unknown => {
    if (parsed.state === 'complete') return { ...parsed.head, length: parsed.length };
    if (parsed.state === 'incomplete') return 'incomplete';
    if (parsed.reason.startsWith('not an HTTP')) return 'not http';
    if (parsed.reason.startsWith('response headers exceed')) return 'too long';
    if (parsed.reason.startsWith('malformed status')) return 'bad status';
    const line = /^malformed header line: (".*")$/s.exec(parsed.reason)![1]!;
    return `bad header ${line}`;
  };

  it('answers as the split-and-pattern parse it replaced, for every head cut at every length', () => {
    const statusLines = ['HTTP/1.1 401 Unauthorized', 'HTTP/1.0 200', 'HTTP/1.1 404 ', 'HTTP/1.1 401\tNo\tTabs', 'HTTP/1.1 40', 'HTTP/2 401 X'];
    const headerLines = [
      'Content-Length: 0',
      'Server:Microsoft-HTTPAPI/2.0',
      'X-Pad: \t spaced \t ',
      'Set-Cookie: a',
      'set-cookie: b',
      'Empty:',
      'Blank:   \t',
      'No colon',
      ': no name',
      'Bad Name: x',
      'X-Cr: a\rb',
      'X-High: caf\xe9',
      'Caf\xe9: x',
      'Constructor: x',
      '',
      'A: 1\n\nB: 2',
      'A: 1\r\n\r\nB: 2',
    ];
    const ends = ['\r\n', '\n', '\r\r\n'];
    let compared = 0;
    for (const status of statusLines) {
      for (let i = 0; i < headerLines.length; i++) {
        for (const [k, eol] of ends.entries()) {
          const a = headerLines[i]!;
          const b = headerLines[(i * 5 + k) % headerLines.length]!;
          const blank = ends[(i + k) % ends.length]!;
          const text = `${status}${eol}${a}${ends[(i + 1) % 3]}${b}${eol}${blank}after`;
          const data = Buffer.from(text, 'latin1');
          for (let cut = 0; cut <= data.length; cut++) {
            for (const maxBytes of [16 * 1024, 24]) {
              const part = data.subarray(0, cut);
              expect(summary(parseResponseHead(part, maxBytes)), `${JSON.stringify(part.toString('latin1'))} within ${maxBytes}`).toEqual(referenceParse(part, maxBytes));
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('accepts a head just under the limit', () => {
    const text = `HTTP/1.1 401 Unauthorized\r\nX-Pad: ${'a'.repeat(1000)}\r\n\r\n`;
    expect(parseResponseHead(Buffer.from(text), text.length).state).toBe('complete');
  });
});

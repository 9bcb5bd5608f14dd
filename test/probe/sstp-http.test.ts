import { describe, expect, it } from 'vitest';
import type { ResponseHead } from '../../src/probe/classify.js';
import { duplexPostRefusal, SSTP_CONTENT_LENGTH } from '../../src/probe/sstp-http.js';

const head = (over: Partial<ResponseHead>): ResponseHead => ({ httpVersion: '1.1', statusCode: 200, reason: 'OK', headers: {}, ...over });

describe('the answer to SSTP_DUPLEX_POST', () => {
  const cases: [string, ResponseHead, ReturnType<typeof duplexPostRefusal>][] = [
    ['opens the call on HTTP/1.1 200 without Content-Length', head({}), null],
    ['opens the call on HTTP/1.1 200 with Content-Length 2^64-1', head({ headers: { 'content-length': SSTP_CONTENT_LENGTH } }), null],
    ['is refused on HTTP/1.0', head({ httpVersion: '1.0' }), { kind: 'http_version', message: 'expected HTTP/1.1 200, got HTTP/1.0 200' }],
    ['is refused on another status, with its reason', head({ statusCode: 404, reason: 'Not Found' }), { kind: 'sstp_http_status', message: 'SSTP_DUPLEX_POST answered 404 Not Found, expected 200' }],
    [
      'is refused on a 200 with a web page length (as sstp-client refuses it)',
      head({ headers: { 'content-length': '512' } }),
      { kind: 'sstp_http_status', message: `SSTP_DUPLEX_POST answered 200 with Content-Length: 512, not ${SSTP_CONTENT_LENGTH}: not an SSTP server (a web page or a proxy answered)` },
    ],
  ];
  it.each(cases)('%s', (_name, answer, expected) => {
    expect(duplexPostRefusal(answer)).toEqual(expected);
  });
});

// The HTTP half of an SSTP call: the SSTP_DUPLEX_POST that opens it and what makes its answer an SSTP server's.
import type { ResponseHead } from './classify.js';
import type { Verdict } from './sstp-verdicts.js';
import { USER_AGENT } from './transport.js';

/** What every SSTP client sends: 2^64 - 1, "the rest of the connection". */
export const SSTP_CONTENT_LENGTH = '18446744073709551615';

/** The request that opens an SSTP connection. */
export function buildDuplexPost(path: string, host: string, correlationId: string, userAgent = USER_AGENT): string {
  return (
    `SSTP_DUPLEX_POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${SSTP_CONTENT_LENGTH}\r\n` +
    `SSTPCORRELATIONID: {${correlationId}}\r\nUser-Agent: ${userAgent}\r\n\r\n`
  );
}

/** Why the answer to SSTP_DUPLEX_POST does not open an SSTP call, or null when it does (HTTP/1.1 200). */
export function duplexPostRefusal(head: ResponseHead): Verdict | null {
  if (head.httpVersion !== '1.1') {
    return { kind: 'http_version', message: `expected HTTP/1.1 200, got HTTP/${head.httpVersion} ${head.statusCode}` };
  }
  if (head.statusCode !== 200) {
    const reason = head.reason ? ` ${head.reason}` : '';
    return { kind: 'sstp_http_status', message: `SSTP_DUPLEX_POST answered ${head.statusCode}${reason}, expected 200` };
  }
  // sstp-client (sstp-http.c) refuses a 200 whose Content-Length is present and not 2^64-1: a web page or a
  // proxy answering 200 is not an SSTP server, and what follows would only fail later as a bad frame.
  const contentLength = head.headers['content-length'];
  if (contentLength !== undefined && contentLength.trim() !== SSTP_CONTENT_LENGTH) {
    return {
      kind: 'sstp_http_status',
      message: `SSTP_DUPLEX_POST answered 200 with Content-Length: ${contentLength.slice(0, 40)}, not ${SSTP_CONTENT_LENGTH}: not an SSTP server (a web page or a proxy answered)`,
    };
  }
  return null;
}

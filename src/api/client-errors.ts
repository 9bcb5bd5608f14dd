// Requests Node's HTTP parser refuses before any route sees them (malformed request lines, headers over 16 KiB,
// a request that did not arrive in time): answered in the contract shape, `{"error": {code, message}}`, with the
// security headers every other answer carries, then the connection is closed.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** Headers on every response unless a route sets its own (the status page sets a stricter CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'cache-control': 'no-store',
};

export interface ClientErrorAnswer {
  statusCode: number;
  code: string;
  message: string;
}

/** What to answer a request Node's parser refused with `code` (its error code: HPE_*, ERR_HTTP_REQUEST_TIMEOUT). */
export function clientErrorAnswer(code: string | undefined): ClientErrorAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { statusCode: 408, code: 'request_timeout', message: 'the request (headers and body) did not arrive in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { statusCode: 431, code: 'headers_too_large', message: 'the request line and headers exceed 16 KiB' };
    case 'HPE_INVALID_METHOD':
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request: unknown method' };
    case 'HPE_INVALID_URL':
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request: invalid URL in the request line' };
    case 'HPE_INVALID_VERSION':
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request: unsupported HTTP version' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request: invalid Content-Length' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request: invalid Transfer-Encoding or chunk' };
    default:
      return { statusCode: 400, code: 'bad_request', message: 'malformed HTTP request' };
  }
}

/** The whole HTTP response for an answer: status line, headers (security headers included), JSON body. */
export function clientErrorResponse(answer: ClientErrorAnswer): string {
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...SECURITY_HEADERS,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The server's clientError handler: answers in the contract shape when the socket can still take it, then closes. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection, or one already gone: nothing to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node's own handler: no answer on a socket whose response has already started.
  const response = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (!socket.writable || response?._headerSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(clientErrorAnswer(err.code)));
  // end() flushes the answer (through TLS too) before closing; a client that never reads is cut off.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

import { describe, expect, it } from 'vitest';
import { answerClientError, clientErrorAnswer, clientErrorResponse } from '../../src/api/client-errors.js';
import { connectionLimits, readOpenFilesLimit } from '../../src/api/connections.js';

describe('connectionLimits: a quarter of the descriptors for the API, the rest kept for probes', () => {
  it.each([
    { openFiles: 64, total: 16, perClient: 4 },
    { openFiles: 512, total: 128, perClient: 16 },
    { openFiles: 1024, total: 256, perClient: 32 },
    { openFiles: 4096, total: 1024, perClient: 64 },
    { openFiles: 1_048_576, total: 1024, perClient: 64 },
  ])('ulimit -n $openFiles: $total connections, $perClient per client', ({ openFiles, total, perClient }) => {
    expect(connectionLimits(openFiles)).toMatchObject({ total, perClient });
  });

  it('gives a request (headers and body) 10 s, a keep-alive connection 5 s idle', () => {
    expect(connectionLimits(1024)).toMatchObject({ requestTimeoutMs: 10_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
  });
});

describe('readOpenFilesLimit', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft}                524288               files     \n`;
  it.each([
    { case: 'a number', text: limits('1024'), expected: 1024 },
    { case: 'unlimited', text: limits('unlimited'), expected: Number.MAX_SAFE_INTEGER },
    { case: 'no such line', text: 'Limit Soft Hard\n', expected: null },
  ])('reads the soft limit: $case', ({ text, expected }) => {
    expect(readOpenFilesLimit(() => text)).toBe(expected);
  });

  it('is null where /proc cannot be read', () => {
    expect(
      readOpenFilesLimit(() => {
        throw Object.assign(new Error('no /proc'), { code: 'ENOENT' });
      }),
    ).toBeNull();
  });

  it("reads this process's own limit on Linux", () => {
    expect(readOpenFilesLimit()).toBeGreaterThan(0);
  });
});

describe('requests refused by the HTTP parser', () => {
  it.each([
    { code: 'ERR_HTTP_REQUEST_TIMEOUT', status: 408, errorCode: 'request_timeout' },
    { code: 'HPE_HEADER_OVERFLOW', status: 431, errorCode: 'headers_too_large' },
    { code: 'HPE_INVALID_METHOD', status: 400, errorCode: 'bad_request' },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, errorCode: 'bad_request' },
    { code: 'HPE_SOMETHING_NEW', status: 400, errorCode: 'bad_request' },
    { code: undefined, status: 400, errorCode: 'bad_request' },
  ])('$code: $status $errorCode', ({ code, status, errorCode }) => {
    expect(clientErrorAnswer(code)).toMatchObject({ statusCode: status, code: errorCode });
  });

  it('are answered in the contract shape with the security headers, and the connection closed', () => {
    const text = clientErrorResponse({ statusCode: 431, code: 'headers_too_large', message: 'the request line and headers exceed 16 KiB' });
    const [head, body] = text.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(head).toContain('\r\nconnection: close');
    expect(head).toContain('\r\nx-content-type-options: nosniff');
    expect(head).toContain("\r\ncontent-security-policy: frame-ancestors 'none'");
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body!)}`);
    expect(JSON.parse(body!)).toEqual({ error: { code: 'headers_too_large', message: 'the request line and headers exceed 16 KiB' } });
  });

  it('say nothing on a connection already reset or gone', () => {
    const writes: string[] = [];
    const socket = { destroyed: false, writable: true, end: (data: string) => writes.push(data), destroy: () => {} };
    answerClientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), socket as never);
    answerClientError(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), { ...socket, destroyed: true } as never);
    expect(writes).toEqual([]);
  });
});
